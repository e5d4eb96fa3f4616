"""The case list's filters and search, shared by the API list, the L0 export and its command.

Filters narrow a queryset that already came through the permission door (``cases_for``); they never
widen it. Every value is untrusted text: it reaches the database only as a bound parameter or,
parsed to an integer first, as a number written into the statement (a township's id), and a
value that cannot mean anything (an unknown state, a township id that is not a number, text with a
NUL byte) gives no rows rather than an error — a filter that matches nothing is an empty list.

Parameters (each may repeat, e.g. ``?state=assigned&state=in_progress``):

- ``state``, ``kind``, ``channel`` — code names from ``xinfang.cases.choices``;
- ``township`` — the id of the case's township (问题属地);
- ``overdue`` — ``true``: an open case (not declined, closed, archived or merged) with a running
  deadline clock past due now (what the sweep alerts on); ``false``: every other case;
- ``search`` — text in the case number, the matter (信访事项) or any demand (诉求).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from xinfang.cases import probes
from xinfang.cases.choices import OPEN_STATES
from xinfang.cases.models import Case, Clock
from xinfang.cases.search import search_q

from .membership import parse_id

CHOICE_FILTERS = ("state", "kind", "channel")
FILTER_NAMES = (*CHOICE_FILTERS, "township", "overdue", "search")
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
MAX_SEARCH = 100


def _values(params: Mapping, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        raw = params.getlist(name)
    else:
        raw = params.get(name)
        raw = raw if isinstance(raw, list | tuple) else ([] if raw is None else [raw])
    return [str(v).strip() for v in raw if str(v).strip() != ""]


def overdue_clocks(now: datetime):
    return Clock.objects.filter(case=OuterRef("pk"), case__state__in=OPEN_STATES,
                                kind="deadline", status=Clock.Status.RUNNING, due_at__lt=now)


def overdue_q(now: datetime) -> Q:
    """The same test on the case's own row: ``open_due_at`` is the soonest running deadline of
    an open case (``next_due_at``, kept by the clock engine, while the case is open), so no clock
    is read per case and the database estimates the test from one column's statistics."""
    return Q(open_due_at__lt=now)


def filter_cases(qs: QuerySet[Case], params: Mapping, *, now: datetime | None = None
                 ) -> QuerySet[Case]:
    now = now or timezone.now()
    if any("\x00" in v for name in FILTER_NAMES for v in _values(params, name)):
        return qs.none()  # PostgreSQL text cannot hold NUL; no case can match it
    for name in CHOICE_FILTERS:
        if values := _values(params, name):
            qs = qs.filter(**{f"{name}__in": values})
    if values := _values(params, "township"):
        ids = [parse_id(v) for v in values]
        if None in ids:
            return qs.none()
        # Written into the statement on PostgreSQL (``probes.named``): townships differ
        # forty-fold (the busy one holds 6,203 of its county's 100,000 cases at 1M, the average
        # 417), and a prepared statement's generic plan, planned for the average township,
        # gathered and sorted the busy one's cases to show fifty (35 ms; its own plan walks
        # ``case_township_received`` backwards and stops, 1.8 ms; lead49).
        qs = qs.filter(probes.named("township_id", tuple(sorted(set(ids)))))
    if values := _values(params, "overdue"):
        wanted = {v.lower() for v in values}
        if wanted <= TRUE:
            qs = qs.filter(overdue_q(now))
        elif wanted <= FALSE:
            qs = qs.exclude(overdue_q(now))
        else:
            return qs.none()
    for text in _values(params, "search"):
        text = text[:MAX_SEARCH]
        qs = qs.filter(search_q(text))
    return qs


def used_filters(params: Mapping) -> dict[str, list[str]]:
    """Each filter the request used, with its values (blank ones left out)."""
    return {name: values for name in FILTER_NAMES if (values := _values(params, name))}


def applied_filters(params: Mapping) -> dict[str, list[str]]:
    """The filters a request used, for the audit record of an export: clipped, and with NUL
    written out (PostgreSQL's jsonb refuses \u0000)."""
    return {name: [v[:MAX_SEARCH].replace("\x00", "\\x00") for v in values]
            for name, values in used_filters(params).items()}
