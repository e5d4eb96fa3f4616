"""Pages of cases without counting a million rows: the count stops at ``COUNT_CAP`` (the
database reads at most that many index entries), and a page shows "10000+" beyond it. Past the
cap a reader narrows the list with filters; nobody pages through ten thousand cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from xinfang.cases.selectors import NOW_PROBE, at_instant
from xinfang.db.fixed import Shape, read_shape, shape
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


# -- a list's statements compiled once -------------------------------------------------------------

KEPT_PAGES = 20  # the first pages of a kept list keep their statements; later ones are built
# Filters' values longer than this in all are not kept: a key is held in memory, and what a
# request sends is untrusted (a megabyte of ``state`` would be kept 256 times over otherwise).
KEPT_TEXT_MOST = 256
_UNSET = object()
Built = Callable[[datetime], QuerySet]  # a list's queryset, asked at an instant


class KeptList:
    """One list's statements (a ledger under one door, filters and order; an office's work-queue
    bucket), compiled on first use through the ORM and run from then on: its count's, by cap,
    and each of its first ``KEPT_PAGES`` pages'. A list that asks the time is compiled at
    ``NOW_PROBE`` and given each request's instant (``at_instant``).

    The caller keeps one per key (``web.ledger.kept_ledger``, ``web.queues._kept``), and the key
    is what the statements are made of: the door's parts and what it read for the request, the
    filters, the order. ``planned``: its count is planned for the instant asked
    (``capped_count``). ``annotated``: its rows carry the list's annotations (the API's
    ``overdue``), set on each instance as the queryset sets them."""

    def __init__(self, alias: str, *, planned: bool = False, annotated: bool = False):
        self.alias = alias
        self.planned = planned
        self.annotated = annotated
        self._counted: dict[int, tuple[str, tuple] | None] = {}  # by the count's cap
        self._pages: dict[tuple[int, int], Shape | None] = {}

    def count_statement(self, counted: Built, cap: int, now: datetime
                        ) -> tuple[str, tuple] | None:
        """``count_statement`` of ``counted``, compiled once a cap, with ``now`` bound: for
        ``capped_counts_of`` (a work queue counts its full buckets together)."""
        if cap not in self._counted:
            self._counted[cap] = count_statement(counted(NOW_PROBE).using(self.alias), cap)
        statement = self._counted[cap]
        if statement is None:
            return None
        return statement[0], tuple(at_instant(statement[1], self.alias, now))

    def count(self, counted: Built, cap: int, now: datetime) -> int:
        statement = self.count_statement(counted, cap, now)
        with planned_each_time(self.alias) if self.planned else nullcontext():
            return capped_count_of(statement, self.alias)

    def rows(self, bottom: int, top: int, per_page: int, build: Built, now: datetime) -> list:
        """The rows from ``bottom`` to ``top`` (a paginator's bounds). A page of the first
        ``KEPT_PAGES`` is kept by where it starts and read to a page's length: its ``top`` is
        short of that only on the last page of an exactly counted list (under a thousand rows,
        far from the count's cap), where both read the same rows — and keeping it by its
        ``top`` would keep one more statement each time the list grew by a row."""
        if bottom >= KEPT_PAGES * per_page:  # a page far in: built as the paginator asks
            return list(build(now).using(self.alias)[bottom:top])
        head = self._pages.get((bottom, per_page), _UNSET)
        if head is _UNSET:
            try:
                head = shape(build(NOW_PROBE).using(self.alias)[bottom:bottom + per_page],
                             self.alias, annotated=self.annotated)
            except EmptyResultSet:
                head = None
            self._pages[(bottom, per_page)] = head
        if head is None:
            return []
        return read_shape(head, at_instant(head.params, self.alias, now), using=self.alias)


def keepable(active: Mapping[str, Sequence[str]], kept: frozenset[str]) -> bool:
    """Whether a list filtered by ``active`` (each filter's values) may keep its statements
    beyond the request: only the filters of ``kept`` (never a searched text or a person), and
    no more than ``KEPT_TEXT_MOST`` characters of their values in all (the values go into a
    key held in memory, and what a request sends is untrusted)."""
    return (set(active) <= kept
            and sum(len(v) for values in active.values() for v in values) <= KEPT_TEXT_MOST)


def door_parts(door) -> tuple:
    """What a list's statements through an office ``door`` are made of, for the key a caller
    keeps its ``KeptList`` by (``web.ledger.kept_ledger``, ``api.views.kept_case_list``): the
    door's own parts (its kind, path, the units above the user, the user) and what it read for
    this request (the recusals, its units when listed, its offices) — a recusal declared or a
    unit added makes another key, never a stale statement."""
    units = door.units
    return (door.kind, door.path, door.inside, door.user_id,
            (door.recused_cases, door.recused_petitioners, door.recused_words),
            tuple(units) if isinstance(units, list) else None, tuple(door.jurisdictions))


class KeptPaginator(CappedPaginator):
    """A ``CappedPaginator`` over a ``KeptList``: the querysets are built (``rows``,
    ``counted``: callables of the instant asked) only where the list has not compiled the
    statement yet. ``counted`` may give None, as the paginator's ``counted`` may be: the rows
    are counted then."""

    def __init__(self, kept: KeptList, rows: Built,
                 counted: Callable[[datetime], QuerySet | None], per_page: int, *,
                 now: datetime):
        super().__init__([], per_page)
        self.kept, self.build_rows, self.build_counted, self.now = kept, rows, counted, now

    def _counted(self, at: datetime) -> QuerySet:
        qs = self.build_counted(at)
        return self.build_rows(at) if qs is None else qs

    @cached_property
    def count(self) -> int:
        return min(self.kept.count(self._counted, self.cap, self.now), self.cap + 1)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.kept.rows(bottom, top, self.per_page, self.build_rows, self.now)
        return self._get_page(rows, number, self)
