"""The case ledger's filters, search and sort (台账).

The filters the API already knows (``state``, ``kind``, ``channel``, ``township``, ``overdue``,
``search``) are applied by ``xinfang.api.filters.filter_cases`` itself, so the page and the L0
export it links to read those names the same way. The ledger adds the names below, in the same
manner: every value is untrusted text reaching the database only as a bound parameter, and a value
that cannot mean anything gives no rows rather than an error.

- ``category`` — a demand's category (问题类别), exact;
- ``village`` — the id of the case's village;
- ``unit`` — the id of a unit the case was assigned to (lead or assisting, handling or done), or a
  unit under it;
- ``key_case``, ``repeat``, ``level_skipping``, ``collective``, ``household`` (exited or monitored
  household), ``confidential`` — ``true`` keeps only the flagged cases;
- ``received_from``, ``received_to`` — ``YYYY-MM-DD``, inclusive, Asia/Shanghai days;
- ``sort`` — ``-received`` (default), ``received``, ``number``, ``-number``, ``due``.

All of them narrow a queryset that came through ``cases_for``; none widens it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime
from functools import cached_property, lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import router
from django.db.models import QuerySet

from xinfang.api.filters import CHOICE_FILTERS
from xinfang.cases.duesort import due_first
from xinfang.cases.models import Case
from xinfang.cases.paging import (
    PLANNED_FILTERS,
    CappedPaginator,
    capped_count_of,
    count_statement,
)
from xinfang.cases.selectors import NOW_PROBE, at_instant, door_for
from xinfang.db.fixed import Shape, read_shape, shape
from xinfang.db.plans import planned_each_time
from xinfang.ledgers.filters import FILTER_NAMES, FLAGS, _values
from xinfang.org.models import Membership

SORTS = {
    "-received": ("-received_at", "-pk"),
    "received": ("received_at", "pk"),
    "number": ("year", "seq", "number"),
    "-number": ("-year", "-seq", "-number"),
    # ``next_due_at`` is kept on the case by the clock engine: no join over every clock.
    "due": (due_first(), "-received_at", "-pk"),
}
DEFAULT_SORT = "-received"


def sort_key(params: Mapping) -> str:
    raw = params.get("sort", "") if hasattr(params, "get") else ""
    return raw if raw in SORTS else DEFAULT_SORT


# The columns a ledger row shows (``present.ledger_rows_html``): not the case's 55, the units'
# 14 and the demands' texts (``queues.ROW_COLUMNS`` says why it matters).
LEDGER_COLUMNS = ("number", "received_at", "matter", "state", "closed_at", "key_case",
                  "repeat_count", "level_skipping", "collective", "exited_household",
                  "monitored_household", "confidential", "township__name", "village__name")


def ledger_rows(qs: QuerySet[Case], sort: str) -> QuerySet[Case]:
    """A ledger page's cases in the chosen order, with the columns a row shows; what it shows
    beside the case (clocks, petitioners, categories, lead units) ``queues.rows`` reads for the
    page's rows at once (``lead_units=True``)."""
    return qs.select_related("township", "village").only(*LEDGER_COLUMNS).order_by(*SORTS[sort])


def active_filters(params: Mapping) -> dict[str, list[str]]:
    return {name: values for name in FILTER_NAMES if (values := _values(params, name))}


def not_exported(params: Mapping) -> list[str]:
    """Filters in use that the L0 export does not apply (none now: it shares filter_ledger)."""
    return [name for name in active_filters(params) if name not in FILTER_NAMES]


# -- a ledger's statements compiled once -----------------------------------------------------------

# The filters whose statement is a function of their values alone, or of the time (``overdue``:
# the instant is bound for each request, ``NOW_PROBE``); not a search's term (its plan is made
# for each term), not other rows (``unit`` reads the units' paths, ``petitioner`` whom the reader
# may reveal).
KEPT_FILTERS = frozenset({*CHOICE_FILTERS, "township", "category", "village", *FLAGS,
                          "received_from", "received_to", "overdue"})
KEPT_PAGES = 20  # the first pages of a kept ledger keep their statements; later ones are built
# Filters' values longer than this in all are not kept: a key is held in memory, and what a
# request sends is untrusted (a megabyte of ``state`` would be kept 256 times over otherwise).
KEPT_TEXT_MOST = 256
_UNSET = object()


Built = Callable[[datetime], QuerySet]  # a queryset of the ledger asked at an instant


class KeptLedger:
    """One office door's ledger under one set of filters and one order: its count's statement
    and each of its first pages' compiled on first use and run from then on (``kept_ledger``),
    the instant of an ``overdue`` filter bound for each request (compiled at ``NOW_PROBE``).

    Building the ledger's two querysets through the door and the filters and compiling them
    cost ~2 ms of each page at 1M cases on PostgreSQL (lead41), about a tenth of the page."""

    def __init__(self, alias: str, planned: bool):
        self.alias = alias
        self.planned = planned  # its count planned for the instant asked (``capped_count``)
        self._counted: dict[int, tuple[str, tuple] | None] = {}  # by the count's cap
        self._pages: dict[tuple[int, int], Shape | None] = {}

    def count(self, counted: Callable[[datetime], QuerySet | None], listed: Built, cap: int,
              now: datetime) -> int:
        """The capped count of ``counted`` (the form fastest to count), or of ``listed`` where
        that is None, as ``CappedPaginator`` counts them."""
        if cap not in self._counted:
            qs = counted(NOW_PROBE)
            qs = listed(NOW_PROBE) if qs is None else qs
            self._counted[cap] = count_statement(qs.using(self.alias), cap)
        statement = self._counted[cap]
        if statement is not None:
            statement = (statement[0], at_instant(statement[1], self.alias, now))
        with planned_each_time(self.alias) if self.planned else nullcontext():
            return capped_count_of(statement, self.alias)

    def rows(self, bottom: int, top: int, per_page: int, build: Built, now: datetime
             ) -> list[Case]:
        """The page from row ``bottom`` to ``top`` (the paginator's bounds). A page of the first
        ``KEPT_PAGES`` is kept by where it starts and read to a page's length: its ``top`` is
        short of that only on the last page of an exactly counted ledger (under a thousand
        rows, far from the count's cap), where both read the same rows — and keeping it by its
        ``top`` would keep one more statement each time the ledger grew by a case."""
        if bottom >= KEPT_PAGES * per_page:  # a page far in: built as the paginator asks
            return list(build(now).using(self.alias)[bottom:top])
        head = self._pages.get((bottom, per_page), _UNSET)
        if head is _UNSET:
            try:
                head = shape(build(NOW_PROBE).using(self.alias)[bottom:bottom + per_page],
                             self.alias)
            except EmptyResultSet:
                head = None
            self._pages[(bottom, per_page)] = head
        if head is None:
            return []
        return read_shape(head, at_instant(head.params, self.alias, now), using=self.alias)


def kept_ledger(m: Membership, params: Mapping, sort: str) -> KeptLedger | None:
    """``m``'s ledger under ``params`` as statements compiled once, or None where it is built
    for each request: a door other than an office's, or a filter not in ``KEPT_FILTERS``.

    What the statements are made of is the key: the door's own parts (its kind, path, the units
    above the user, the user), what it read for this request (the recusals, its units when
    listed, its offices), the filters' values and the order — a recusal declared or a unit added
    makes another key, never a stale statement."""
    door = door_for(m)
    active = active_filters(params)
    if (door.kind != "office" or not set(active) <= KEPT_FILTERS
            or sum(len(v) for values in active.values() for v in values) > KEPT_TEXT_MOST):
        return None
    units = door.units
    return _kept(
        router.db_for_read(Case), door.kind, door.path, door.inside, door.user_id,
        (door.recused_cases, door.recused_petitioners, door.recused_words),
        tuple(units) if isinstance(units, list) else None, tuple(door.jurisdictions),
        tuple(sorted((name, tuple(values)) for name, values in active.items())), sort)


@lru_cache(maxsize=256)
def _kept(alias: str, *key) -> KeptLedger:
    filters = dict(key[-2])
    return KeptLedger(alias, planned=any(name in filters for name in PLANNED_FILTERS))


class KeptPaginator(CappedPaginator):
    """A ``CappedPaginator`` over a ``KeptLedger``: the querysets are built (``rows``,
    ``counted``: callables of the instant asked; ``counted`` may give None, as the paginator's
    ``counted`` may be) only where the ledger has not compiled the statement yet."""

    def __init__(self, kept: KeptLedger, rows: Built,
                 counted: Callable[[datetime], QuerySet | None], per_page: int, *,
                 now: datetime):
        super().__init__([], per_page)
        self.kept, self.build_rows, self.build_counted, self.now = kept, rows, counted, now

    @cached_property
    def count(self) -> int:
        return min(self.kept.count(self.build_counted, self.build_rows, self.cap, self.now),
                   self.cap + 1)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.kept.rows(bottom, top, self.per_page, self.build_rows, self.now)
        return self._get_page(rows, number, self)
