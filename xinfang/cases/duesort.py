"""Soonest deadline first, cases without a running deadline last — read off an index on both
databases.

PostgreSQL sorts ``next_due_at ASC NULLS LAST`` straight off the ``(next_due_at)`` b-tree (NULLs
are stored last there). SQLite stores NULLs first and cannot read an index backwards for the NULLs
alone, so ``NULLS LAST`` made it sort every visible case for a page of 50. On SQLite the order is
``COALESCE(next_due_at, NO_DEADLINE)`` instead — the same order, since no deadline is later than
``NO_DEADLINE`` — and migration ``0036_sqlite_due_order`` indexes exactly that expression, with
the lists' tie-breaks (newest registered, then id) after it, for a reader with no jurisdiction to
seek (a province's door) as for the sort alone. ``0010_lists2_due_sort`` indexed the expression
alone (``SQLITE_INDEX_SQL``, kept for reversing ``0037``, which dropped it).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connections
from django.db.models import DateTimeField, F, Func, OrderBy, QuerySet
from django.db.models.lookups import LessThan

from . import choices as c

# Later than any deadline; in the text form Django stores datetimes in on SQLite.
NO_DEADLINE = "9999-12-31 23:59:59"
SQLITE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS case_due_sort_idx "
    f"ON cases_case (COALESCE(next_due_at, '{NO_DEADLINE}'))"
)


class DueKey(Func):
    """The sort key: the column itself on PostgreSQL, ``COALESCE(column, NO_DEADLINE)`` on SQLite
    (the indexed expression). A function, not the bare column, so a query selecting the column
    cannot swap the key for the column's position in its select list."""

    arity = 1
    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE({column}, '{NO_DEADLINE}')", params


class DueFirst(OrderBy):
    """``ORDER BY`` the soonest running deadline, cases without one last."""

    def __init__(self):
        super().__init__(DueKey(F("next_due_at")), nulls_last=True)

    def as_sqlite(self, compiler, connection, **extra):
        # COALESCE is never NULL; SQLite will not read an index for an explicit NULLS LAST.
        key, params = compiler.compile(self.expression)
        return f"{key} ASC", params


def due_first() -> DueFirst:
    return DueFirst()


def past_due(qs: QuerySet, now: datetime) -> QuerySet:
    """``qs``'s open cases with a deadline running past ``now``, for a list read in the due order
    (the inspector's overdue bucket, the supervision page's late list).

    PostgreSQL reads ``open_due_at``, one column it estimates from its own statistics: as two
    tests (an open state, a past deadline) it took them for independent and planned a county's
    late list for a twentieth of its rows (lead35, lead38). SQLite walks the whole due order off
    ``0036``'s index and stops at the list's last row, so it is given the range on the due key
    itself and the open state beside it: asked for ``open_due_at``, it read a province's late
    cases off their own index and sorted them all (the province inspector's queue 19 → 45 ms at
    200k; docs/PERFORMANCE.md, lead38). Both ask the same thing: ``open_due_at`` is
    ``next_due_at`` while the case is open (migration 0046)."""
    if connections[qs.db].vendor == "sqlite":
        return qs.filter(LessThan(DueKey(F("next_due_at")), now), state__in=c.OPEN_STATES)
    return qs.filter(open_due_at__lt=now)
