"""Two keepers at once on PostgreSQL: a practice written twice at the same moment is written
once, and the second hears why."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from tests.conftest import sh
from tests.racing import race
from xinfang.cases.models import CaseEvent
from xinfang.practices.models import DutySlot, WatchEntry
from xinfang.practices.services import Invalid, duty_assign, watch_release
from xinfang.rules.store import current_version

from .test_watch_list import listed

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


def test_a_watch_entry_released_twice_at_once_is_released_once(jianan, fresh):
    # given a listed person, and one release sent twice (a double click)
    j = jianan
    case = fresh()
    entry = listed(j, case)

    def release():
        return watch_release(by=j.member("clerk"), entry_id=entry.pk, reason="已息诉罢访")

    # when both arrive together
    out = race(release, release)
    # then one release is on the case's record; the second was told the entry is gone
    assert isinstance(out["first"], WatchEntry)
    assert isinstance(out["second"], Invalid), out["second"]
    assert CaseEvent.objects.filter(case=case, type="watch_released").count() == 1
