"""Two leaders at once on PostgreSQL: one case designated a backlog case twice at the same moment
is on the register once, and the second leader hears it is."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from tests.conftest import register_in
from tests.racing import race
from xinfang.cases.errors import Refused
from xinfang.registers.models import BacklogCase
from xinfang.registers.services import backlog_designate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)"),
]


def test_one_case_designated_twice_at_once_is_designated_once(jianan):
    # given a case not on the register, and the approver's and the chief's designations of it
    j = jianan
    case = register_in(j)

    def designate(role):
        return lambda: backlog_designate(
            by=j.member(role), case=case, owner_leader=j.member(role).user, reason="多次重复访",
            plan="包案化解", plan_deadline=date(2026, 12, 31))

    # when both are sent at once
    out = race(designate("approver"), designate("chief"))
    # then the case is on the register once and the second is refused in words, not a crash
    assert isinstance(out["first"], BacklogCase)
    assert isinstance(out["second"], Refused), repr(out["second"])
    assert "已认定为积案" in out["second"].message
    assert BacklogCase.objects.filter(case=case).count() == 1
    assert case.events.filter(type="backlog_designated").count() == 1
