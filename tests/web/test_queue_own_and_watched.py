"""A queue lists only cases its user can act on; what they may only watch has its own heading
(issue 15: the city clerk's 待拟办/待交办 listed the district's cases)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.services import available
from xinfang.web.queues import queue_for

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def buckets(m):
    return {b.key: [r.case for r in b.rows] for b in queue_for(m, timezone.now())}


def test_the_city_clerk_watches_district_cases_without_them_in_the_to_do(jianan, register):
    case = register()
    city = buckets(jianan.member("city_clerk"))
    assert case not in city.get("propose", [])
    assert city["watch"] == [case]
    assert not available(case=case, by=jianan.member("city_clerk"))  # nothing to do there
    district = buckets(jianan.member("clerk"))
    assert district["propose"] == [case] and district["watch"] == []


def test_the_watch_heading_shows_on_the_queue_page(jianan, register):
    case = register()
    html = signed_in(jianan.member("city_clerk")).get(reverse("web:home")).content.decode()
    assert "下级机关在办信访件（仅供查看）" in html and case.number in html
