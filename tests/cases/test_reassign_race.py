"""Two clerks reassigning the same case at once, on PostgreSQL: the second waits on the first's
lock and is refused as stale — one reassignment, one history entry, one active lead; and two
hand-overs of the same township at once move each case once."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cases.test_engine_edges import assigned_case
from tests.racing import race
from xinfang.cases.errors import StaleCase
from xinfang.cases.models import Assignment, CaseEvent
from xinfang.cases.services import perform
from xinfang.cases.services.handover import unit_hand_over
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two at once need a real PostgreSQL (CI=true DATABASE_URL=…)"),
]


def second_clerk(j) -> Membership:
    user = User.objects.create(username="clerk2", full_name="何平")
    return Membership.objects.create(user=user, unit=j.office, role=Role.CLERK)


def test_two_clerks_reassigning_one_case_at_once_make_one_reassignment(jianan):
    case = assigned_case(jianan)
    version = case.version
    other = second_clerk(jianan)

    def by(m, unit):
        return lambda: perform("reassign", case=case.pk, by=m, expected_version=version,
                               lead=unit, reason="交办有误", receiver_name="马")

    out = race(by(jianan.member("clerk"), jianan.townships["五女店镇"]),
               by(other, jianan.townships["椹涧乡"]))
    assert out["second_waited"]
    assert isinstance(out["second"], StaleCase), out["second"]
    active = Assignment.objects.filter(case=case, status="active")
    assert [a.unit.name for a in active] == ["五女店镇"]
    assert CaseEvent.objects.filter(case=case, type="reassign").count() == 1


def test_two_hand_overs_of_one_township_at_once_move_each_case_once(jianan):
    cases = [assigned_case(jianan, matter=f"第{n}件") for n in range(3)]
    other = second_clerk(jianan)
    town, wunv = jianan.townships["将官池镇"], jianan.townships["五女店镇"]

    def hand(m):
        return lambda: unit_hand_over(by=m, old=town, new=wunv, reason="乡镇撤并",
                                      receiver_name="马")

    out = race(hand(jianan.member("clerk")), hand(other))
    assert out["second_waited"]
    # the second finds each case moved already: neither moved again nor refused
    assert sorted(out["first"].moved) == sorted(c.number for c in cases), out
    assert (out["second"].moved, out["second"].refused) == ([], []), out
    for case in cases:
        assert CaseEvent.objects.filter(case=case, type="reassign").count() == 1
        assert [a.unit_id for a in Assignment.objects.filter(case=case, status="active")] == [
            wunv.pk]
