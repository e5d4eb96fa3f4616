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

from collections.abc import Mapping
from functools import lru_cache

from django.db import router
from django.db.models import QuerySet

from xinfang.api.filters import CHOICE_FILTERS
from xinfang.cases.duesort import due_first
from xinfang.cases.models import Case
from xinfang.cases.paging import PLANNED_FILTERS, KeptList, door_parts, keepable
from xinfang.cases.selectors import door_for
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


def keeps(params: Mapping) -> bool:
    """Whether what ``params`` filters by may be kept beyond the request: only the filters of
    ``KEPT_FILTERS`` (never a searched text or a petitioner's name), and not too much of them
    (``KEPT_TEXT_MOST``). The kept ledger's statements and the kept filter bar ask it."""
    return keepable(active_filters(params), KEPT_FILTERS)


def kept_ledger(m: Membership, params: Mapping, sort: str) -> KeptList | None:
    """``m``'s ledger under ``params`` as statements compiled once, or None where it is built
    for each request: a door other than an office's, or a filter not in ``KEPT_FILTERS``.

    What the statements are made of is the key: the door's own parts (its kind, path, the units
    above the user, the user), what it read for this request (the recusals, its units when
    listed, its offices), the filters' values and the order — a recusal declared or a unit added
    makes another key, never a stale statement."""
    door = door_for(m)
    if door.kind != "office" or not keeps(params):
        return None
    active = active_filters(params)
    return _kept(router.db_for_read(Case), *door_parts(door),
                 tuple(sorted((name, tuple(values)) for name, values in active.items())), sort)


@lru_cache(maxsize=256)
def _kept(alias: str, *key) -> KeptList:
    """One office ledger's statements (``KeptList``), kept per ``kept_ledger``'s key: building
    its two querysets through the door and the filters and compiling them cost ~2 ms of each
    page at 1M cases on PostgreSQL (lead41), about a tenth of the page."""
    filters = dict(key[-2])
    return KeptList(alias, planned=any(name in filters for name in PLANNED_FILTERS))
