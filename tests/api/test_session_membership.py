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


def test_the_membership_is_read_once_with_the_user_in_hand(jianan, django_assert_num_queries):
    """``membership_of`` reads the membership and its units in one statement, gives it the user
    the caller holds, and answers nothing for a user switched off since."""
    from xinfang.api.membership import membership_of
    from xinfang.org.models import User

    clerk = jianan.member("clerk")
    user = User.objects.get(pk=clerk.user.pk)
    with django_assert_num_queries(1):
        found = membership_of(user)
        assert found.user is user and found.unit.parent is not None
    assert membership_of(user, found.pk) == found
    assert membership_of(user, found.pk + 10_000) is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    with django_assert_num_queries(0):
        assert membership_of(user) is None
