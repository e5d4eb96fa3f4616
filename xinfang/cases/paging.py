"""Pages of cases without counting a million rows: the count stops at ``COUNT_CAP`` (the
database reads at most that many index entries), and a page shows "10000+" beyond it. Past the
cap a reader narrows the list with filters; nobody pages through ten thousand cases."""

from __future__ import annotations

from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from xinfang.db.plans import planned_each_time

COUNT_CAP = 10_000
# A text search tests its cases one by one (``cases.search``): ten thousand matches of a common
# term are eighty thousand cases read. Its count stops here ("500+"), on the ledger and the API.
SEARCH_COUNT_CAP = 500
# The filters whose rows a generic plan cannot estimate: how rare a searched term is, how many
# open cases are past the instant asked (``open_due_at < now``). A generic plan of the province's
# overdue count expected a tenth of its cases, read the table in order and stopped at the cap
# when the scan began among the old cases, 5 ms, but ran 290 ms when PostgreSQL began it where
# another scan of the table stood (synchronised scans; lead38).
PLANNED_FILTERS = ("search", "overdue")


def asked_page(text: str | None) -> int:
    """The page number a request asks for: 1 when it names none or no positive number (the
    paginator then answers for the page itself)."""
    return int(text) if text and text.isdigit() and int(text) > 0 else 1


def capped_count(qs: QuerySet, cap: int = COUNT_CAP, *, planned: bool = False) -> int:
    """The number of rows, or ``cap + 1`` when there are more than ``cap``. ``planned``: counted
    with a plan made for the parameters (``planned_each_time``): a text search's term, or the
    instant the overdue rows are past (``PLANNED_FILTERS``)."""
    # values("pk"): the annotations a page shows (the API's overdue column) are not computed
    # for every counted row.
    counted = qs.order_by().values("pk")[: cap + 1]
    with planned_each_time(qs.db) if planned else nullcontext():
        return counted.count()


def count_statement(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[str, tuple] | None:
    """``capped_count``'s statement of ``qs`` for its database, as text and parameters (None
    where ``qs`` can hold nothing: ``qs.none()``), for ``capped_counts_of``."""
    counted = qs.order_by().values("pk")[: cap + 1]
    try:
        sql, params = counted.query.get_compiler(qs.db).as_sql()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def capped_count_of(statement: tuple[str, tuple] | None, using: str) -> int:
    """The capped count of one ``count_statement`` (None counts 0), in the text
    ``QuerySet.count()`` writes for a sliced query."""
    if statement is None:
        return 0
    sql, params = statement
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) subquery", params)
        return cursor.fetchone()[0]


def capped_counts_of(statements: list[tuple[str, tuple] | None], using: str) -> list[int]:
    """The capped counts of ``count_statement``'s statements (None counts 0), in one statement
    on ``using``: ``SELECT (SELECT COUNT(*) FROM (… LIMIT cap + 1)), …``. A work queue counts its
    full buckets together, their statements compiled once (``web.queues``)."""
    parts, params, counts = [], [], [0] * len(statements)
    asked = []
    for i, statement in enumerate(statements):
        if statement is None:
            continue
        sql, p = statement
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted{i})")
        params.extend(p)
        asked.append(i)
    if parts:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            for i, n in zip(asked, cursor.fetchone(), strict=True):
                counts[i] = n
    return counts


def capped_text(qs: QuerySet, cap: int = COUNT_CAP) -> str:
    """The count as a page shows it: "37", or "10000+" past the cap."""
    n = capped_count(qs, cap)
    return f"{cap}+" if n > cap else str(n)


class CappedPaginator(Paginator):
    cap = COUNT_CAP
    planned = False  # counted with a plan made for its parameters (``capped_count``)

    def __init__(self, *args, counted: QuerySet | None = None, cap: int | None = None,
                 at_least: int = 0, planned: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.planned = self.planned or planned
        # What is counted, when the rows listed are read from fewer (the inbox's newest), and
        # how many rows are known to be there already (counted while reading them): past the
        # cap, nothing is counted again.
        self.counted, self.at_least = counted, at_least
        if cap is not None:
            self.cap = cap

    @cached_property
    def count(self) -> int:
        if self.at_least > self.cap:
            return self.cap + 1
        counted = self.object_list if self.counted is None else self.counted
        if not isinstance(counted, QuerySet):
            return super().count
        return min(capped_count(counted, self.cap, planned=self.planned), self.cap + 1)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def count_text(self) -> str:
        return f"{self.cap}+" if self.capped else str(self.count)


class SearchedPaginator(CappedPaginator):
    """A text search's rows (the ledger's and the API's): counted to ``SEARCH_COUNT_CAP``, with a
    plan made for the term (``capped_count``)."""

    cap, planned = SEARCH_COUNT_CAP, True
