"""Migration 0002 closes a weekday's second open duty slot before it forbids one."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("practices", "0001_initial")]


def test_a_weekday_left_open_twice_keeps_the_newer_slot_open(jianan):
    j = jianan
    leader, clerk = j.member("approver"), j.member("clerk")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        DutySlot = executor.loader.project_state(BEFORE).apps.get_model("practices", "DutySlot")
        made = [DutySlot.objects.create(
            jurisdiction_id=j.county.pk, weekday=2, leader_id=leader.pk, starts_on=day,
            created_by_id=clerk.user_id, created_at=timezone.now()).pk
            for day in (date(2027, 3, 1), date(2027, 2, 1), date(2027, 3, 1))]
        other = DutySlot.objects.create(
            jurisdiction_id=j.county.pk, weekday=3, leader_id=leader.pk,
            starts_on=date(2027, 1, 4), created_by_id=clerk.user_id, created_at=timezone.now())
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())  # every app back at its newest
    from xinfang.practices.models import DutySlot

    ends = dict(DutySlot.objects.filter(pk__in=[*made, other.pk]).values_list("pk", "ends_on"))
    assert ends == {
        made[1]: date(2027, 2, 28),  # the oldest, until the next began
        made[0]: date(2027, 2, 28),  # replaced on its own first day: never in force
        made[2]: None,               # the newest of that weekday stays on duty
        other.pk: None,              # another weekday untouched
    }
