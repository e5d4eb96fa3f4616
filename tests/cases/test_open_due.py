"""``Case.open_due_at`` — the soonest running deadline while the case is open, computed by the
database from ``state`` and ``next_due_at`` (migration 0046) — is what every overdue list reads:
the API's and the ledger's filter and column, the inspector's queue, the supervision page's late
list. A case closed with a deadline left running is late on none of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.api.world import client_as, walk
from tests.web.conftest import signed_in
from xinfang.api.filters import filter_cases
from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.web.queues import queue_for
from xinfang.web.supervision import late_list

pytestmark = pytest.mark.django_db


def stored(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.mark.parametrize("stage", ["registered", "in_progress", "delivered", "closed"])
def test_the_column_is_the_next_due_while_the_case_is_open(jianan, stage):
    case = stored(walk(jianan, stage))
    if case.state in c.OPEN_STATES:
        assert case.open_due_at == case.next_due_at is not None
    else:
        assert case.open_due_at is None


def test_the_database_recomputes_it_on_every_write_of_either_column(jianan):
    case = walk(jianan, "in_progress")
    past = timezone.now() - timedelta(days=3)
    Case.objects.filter(pk=case.pk).update(next_due_at=past)
    assert stored(case).open_due_at == past
    Case.objects.filter(pk=case.pk).update(state=c.State.CLOSED)
    assert stored(case).open_due_at is None and stored(case).next_due_at == past
    Case.objects.filter(pk=case.pk).update(state=c.State.IN_PROGRESS)
    assert stored(case).open_due_at == past
    Case.objects.filter(pk=case.pk).update(next_due_at=None)
    assert stored(case).open_due_at is None


def late_everywhere(j, case: Case) -> dict[str, bool]:
    """Whether ``case`` is late on each list that shows late cases."""
    now = timezone.now()
    inspector, approver = j.member("inspector"), j.member("approver")
    api = client_as(j.member("clerk")).get("/api/cases/?overdue=true&page_size=200").json()
    detail = client_as(j.member("clerk")).get(f"/api/cases/{case.pk}/").json()
    queue = {b.key: [r.case.pk for r in b.rows] for b in queue_for(inspector, now)}
    rows, _total = late_list(cases_for(approver), now)
    return {
        "filter": filter_cases(cases_for(inspector), {"overdue": "true"}).filter(
            pk=case.pk).exists(),
        "not filter": not filter_cases(cases_for(inspector), {"overdue": "false"}).filter(
            pk=case.pk).exists(),
        "api list": case.pk in {row["id"] for row in api["results"]},
        "api column": detail["overdue"],
        "queue": case.pk in queue["overdue"],
        "supervision": case.pk in {k.pk for k in rows},
    }


def test_a_case_closed_with_a_deadline_still_running_is_late_on_no_list(jianan):
    case = walk(jianan, "in_progress")
    Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() - timedelta(days=2))
    assert set(late_everywhere(jianan, case).values()) == {True}
    # a profile may start a deadline after a closing event: the case is late on no list
    Case.objects.filter(pk=case.pk).update(state=c.State.CLOSED)
    assert set(late_everywhere(jianan, case).values()) == {False}


def test_an_open_case_whose_deadline_is_ahead_is_late_on_no_list(jianan):
    case = walk(jianan, "in_progress")
    Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() + timedelta(days=2))
    assert set(late_everywhere(jianan, case).values()) == {False}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_an_overdue_count_is_planned_each_time_and_its_rows_are_prepared(jianan):
    # lead38: the province's overdue count under a generic plan read the table in order, 5 ms or
    # 290 ms by where the scan began; counted with a plan for the instant it is 6 ms
    case = walk(jianan, "in_progress")
    Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() - timedelta(days=2))
    web, api = signed_in(jianan.member("clerk")), client_as(jianan.member("clerk"))
    for _ in range(7):
        assert case.number in web.get(reverse("web:ledger") + "?overdue=true").content.decode()
        assert api.get("/api/cases/?overdue=true").json()["count"] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%"open_due_at" <%'])
        overdue = [row[0] for row in cursor]
    assert any(not s.startswith("SELECT COUNT(*)") for s in overdue)  # the pages' rows
    assert not any(s.startswith("SELECT COUNT(*)") for s in overdue)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL vacuums after 0046")
def test_0046_run_again_after_a_vacuum_cut_short_goes_on():
    # the column and its index are committed before the vacuum: a migration stopped there is
    # unrecorded, and running its step again must not fail on what is already in
    from importlib import import_module

    step = import_module("xinfang.cases.migrations.0046_open_due_at").add_column
    with connection.schema_editor(atomic=False) as editor:
        step(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'case_open_due_idx'")
        assert cursor.fetchone()[0] == 1
