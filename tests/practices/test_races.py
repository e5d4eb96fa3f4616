"""Two keepers at once on PostgreSQL: a practice written twice at the same moment is written
once, and the second hears why."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from tests.conftest import sh
from tests.racing import race
from xinfang.practices.models import DutySlot
from xinfang.practices.services import Invalid, duty_assign
from xinfang.rules.store import current_version

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two requests at once need a real PostgreSQL (DATABASE_URL=…)"),
]


def test_two_clerks_setting_one_weekdays_leader_at_once_leave_one_slot_open(jurisdiction):
    # given an office without a Monday roster, and two clerks setting it at once
    li = jurisdiction("lihai")
    approver, chief = li.member("approver"), li.member("chief")
    current_version("lihai")  # installed before the race, as in a running office

    def assign(leader):
        return lambda: duty_assign(by=li.member("clerk"), weekday=0, leader_id=leader.pk,
                                   starts_on=date(2026, 9, 1), now=sh(2026, 9, 1, 9))

    # when both are sent
    out = race(assign(approver), assign(chief))
    # then Monday has one leader on duty: the second form was refused, naming the date
    assert isinstance(out["first"], DutySlot)
    assert isinstance(out["second"], Invalid), out["second"]
    assert set(out["second"].errors) == {"starts_on"}
    assert DutySlot.objects.filter(weekday=0, ends_on=None).count() == 1

