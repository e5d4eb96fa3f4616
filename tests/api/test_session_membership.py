"""A signed-in browser's API calls (the ledger's export link) act as the membership chosen in the
web session, not silently as the user's first one."""

import pytest
from django.test import Client

from tests.api.world import walk
from xinfang.org.models import Membership

pytestmark = pytest.mark.django_db


def test_the_api_follows_the_membership_chosen_in_the_web_session(jianan):
    walk(jianan, "registered")
    clerk = jianan.member("clerk")
    # The same person also handles cases for 区教育局, which has none assigned.
    second = Membership.objects.create(user=clerk.user, unit=jianan.bureaus["区教育局"],
                                       role="unit_handler")
    client = Client()
    client.force_login(clerk.user)
    assert client.get("/api/cases/").json()["count"] == 1
    session = client.session
    session["membership_id"] = second.pk
    session.save()
    assert client.get("/api/cases/").json()["count"] == 0
