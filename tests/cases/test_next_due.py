"""``Case.next_due_at`` — the soonest running deadline, kept by the clock engine — always equals
what the clocks say, through registration, handling and closing; a row tampered with behind the
engine's back is put right by ``xinfang db refresh-due``; statistics come with every migrate."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Min

from tests.api.world import walk
from xinfang.cases.models import Case, Clock

pytestmark = pytest.mark.django_db


def truth(case: Case):
    running = Clock.objects.filter(case=case, status="running", kind="deadline")
    return running.aggregate(m=Min("due_at"))["m"]


@pytest.mark.parametrize(
    "stage",
    [
        "registered",
        "proposed",
        "assigned",
        "in_progress",
        "extension_requested",
        "found",
        "delivered",
        "closed",
        "archived",
    ],
)
def test_next_due_follows_the_clocks_through_the_workflow(jianan, stage):
    case = walk(jianan, stage)
    case.refresh_from_db()
    assert case.next_due_at == truth(case)
    if stage == "registered":
        assert case.next_due_at is not None  # the registration started deadlines
    if stage in ("closed", "archived"):
        assert case.next_due_at is None  # closing ends every deadline


def test_a_tampered_next_due_is_put_right_by_refresh_due(jianan):
    late, done = walk(jianan, "in_progress"), walk(jianan, "closed")
    Case.objects.filter(pk=late.pk).update(next_due_at=None)
    Case.objects.filter(pk=done.pk).update(next_due_at=late.registered_at)
    out = StringIO()
    call_command("db", "refresh-due", stdout=out)
    late.refresh_from_db()
    done.refresh_from_db()
    assert late.next_due_at == truth(late) and late.next_due_at is not None
    assert done.next_due_at is None
    assert "refresh-due: 2 cases" in out.getvalue()


def test_db_optimize_takes_statistics(jianan):
    walk(jianan, "in_progress")
    out = StringIO()
    call_command("db", "optimize", stdout=out)
    assert connection.vendor in out.getvalue()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'cases_case'")
            assert cursor.fetchone()[0] > 0
