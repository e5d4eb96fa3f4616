"""``Case.next_due_at`` — the soonest running deadline, kept by the clock engine — always equals
what the clocks say, through registration, handling and closing; a row tampered with behind the
engine's back is put right by ``xinfang db refresh-due``; statistics come with every migrate."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Min
from django.test.utils import CaptureQueriesContext

from tests.api.world import walk
from tests.conftest import register_in
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


def test_registration_writes_the_next_due_with_the_case_and_its_clocks_after_it(jianan):
    """The deadlines a registration starts are known before the case is written: the case's
    INSERT carries its next due instant (no UPDATE of it), and the clocks follow it."""
    with CaptureQueriesContext(connection) as queries:
        case = register_in(jianan)
    statements = [q["sql"] for q in queries]
    assert not [sql for sql in statements if sql.startswith('UPDATE "cases_case"')]
    case_insert = next(i for i, sql in enumerate(statements)
                       if sql.startswith('INSERT INTO "cases_case"'))
    clock_insert = next(i for i, sql in enumerate(statements)
                        if sql.startswith('INSERT INTO "cases_clock"'))
    assert case_insert < clock_insert
    stored = Case.objects.get(pk=case.pk)
    assert stored.next_due_at is not None
    assert stored.next_due_at == truth(stored) == case.next_due_at


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
