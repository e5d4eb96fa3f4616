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


def test_a_handling_units_buckets_hold_its_own_active_assignments_through_the_door(
        jianan, register):
    """A handling unit's to-do buckets read the cases its unit holds an active assignment of
    (``Door.held``) without the door's inclusion; the door's exclusions still hide a case the
    unit is accused in, or one the user recused from."""
    from xinfang.cases.models import Respondent
    from xinfang.security.models import Recusal

    from .conftest import walk

    to_sign, signed, accused, recused = (register(), register(), register(), register())
    for case in (to_sign, accused, recused):
        walk(jianan, case, "assigned")
    walk(jianan, signed, "in_progress")
    township, bureau = jianan.member("township"), jianan.member("bureau")
    Respondent.objects.create(case=accused, unit=township.unit, name=township.unit.name)
    Recusal.objects.create(user=township.user, case=recused, reason="亲属")
    mine = buckets(township)
    assert mine["sign_for"] == [to_sign]
    assert mine["handle"] == [signed]  # in progress, a demand still without a finding
    assert mine["draft"] == [] and mine["reply"] == []
    # the assisting bureau holds the same cases, signed for by nobody yet
    theirs = buckets(bureau)
    assert set(theirs["sign_for"]) == {to_sign, signed, accused, recused}
    assert theirs["draft"] == []  # drafting is the lead unit's
