"""A case's next due instant (``Case.next_due_at``): the soonest running deadline among its
clocks. The clock engine calls ``case_refresh_due`` after it starts, stops, pauses, resumes or
extends a clock; a write that touches nothing leaves the row alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

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
    if due != case.next_due_at:
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


def cases_refresh_due() -> int:
    """Recompute every case's next due instant (after a bulk load or a restore)."""
    return Case.objects.update(next_due_at=next_due_subquery())
