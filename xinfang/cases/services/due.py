"""A case's next due instant (``Case.next_due_at``): the soonest running deadline among its
clocks. The clock engine calls ``case_refresh_due`` after it starts, stops, pauses, resumes or
extends a clock; a write that touches nothing leaves the row alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connections, transaction
from django.db.models import Min, OuterRef, Subquery

from ..models import Case, Clock

RUNNING_DEADLINE = {"status": Clock.Status.RUNNING, "kind": "deadline"}


def next_due_of(clocks: Iterable[Clock]) -> datetime | None:
    due = [k.due_at for k in clocks if k.status == Clock.Status.RUNNING and k.kind == "deadline"]
    return min(due) if due else None


def case_refresh_due(case: Case, *, clocks: Iterable[Clock] | None = None) -> None:
    """Store the case's next due instant. ``clocks`` — every clock of the case not stopped, as
    the caller holds them — spares the read; without it the clocks are read."""
    if clocks is None:
        clocks = Clock.objects.filter(case_id=case.pk).exclude(status=Clock.Status.STOPPED)
    due = next_due_of(clocks)
    if due != case.next_due_at and (case.pk is None or case.__dict__.get("_xf_defer_due")):
        # written with the case: its INSERT (a registration), or the version UPDATE of
        # ``perform`` (base.DEFER_DUE)
        case.next_due_at = due
    elif due != case.next_due_at:
        Case.objects.filter(pk=case.pk).update(next_due_at=due)
        case.next_due_at = due


def next_due_subquery():
    """The same value computed in SQL, for rows written without the engine (a migration, a bulk
    load): ``Case.objects.update(next_due_at=next_due_subquery())``."""
    return Subquery(
        Clock.objects.filter(case=OuterRef("pk"), **RUNNING_DEADLINE)
        .order_by()
        .values("case")
        .annotate(m=Min("due_at"))
        .values("m")[:1]
    )


REFRESH_ALL_SQL = """
    UPDATE cases_case SET next_due_at = due.m
    FROM (
        SELECT case_id, MIN(due_at) AS m FROM cases_clock
        WHERE status = 'running' AND kind = 'deadline' GROUP BY case_id
    ) AS due
    WHERE due.case_id = cases_case.id
        AND (cases_case.next_due_at IS NULL OR cases_case.next_due_at <> due.m)
"""
CLEAR_SQL = """
    UPDATE cases_case SET next_due_at = NULL
    WHERE next_due_at IS NOT NULL AND id NOT IN (
        SELECT case_id FROM cases_clock WHERE status = 'running' AND kind = 'deadline'
    )
"""


def cases_refresh_due(using: str = "default") -> int:
    """Recompute every case's next due instant (after a bulk load or a restore): one grouped pass
    over the clocks, then the cases left with none running. Returns the rows changed."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(REFRESH_ALL_SQL)
        changed = cursor.rowcount
        cursor.execute(CLEAR_SQL)
        return changed + cursor.rowcount
