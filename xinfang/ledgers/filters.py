"""The ledger's filters beyond the API's own (see ``xinfang.api.filters``), shared by the ledger
page, the L0 export over the API and ``xinfang export_ledger``, so the file holds exactly the
rows the page shows.

- ``category`` — a demand's category (问题类别), exact;
- ``village`` — the id of the case's village;
- ``unit`` — the id of a unit the case was assigned to (lead or assisting, handling or done), or a
  unit under it;
- ``key_case``, ``repeat``, ``level_skipping``, ``collective``, ``household`` (exited or monitored
  household), ``confidential`` — ``true`` keeps only the flagged cases;
- ``received_from``, ``received_to`` — ``YYYY-MM-DD``, inclusive, Asia/Shanghai days;
- ``petitioner`` — a petitioner's full name, exact (spaces, full-width letters and the kind of
  middle dot do not matter). Names are encrypted at rest, so this goes through the name's blind
  index: no part of a name (张, 三明), no fuzzy or homophone match, no ordering by name. It finds
  only the people ``by`` may reveal (``disclosure.revealable_links``): a unit learns nothing of
  a confidential person by searching for her name, and without ``by`` it finds nothing.

Every value is untrusted text reaching the database only as a bound parameter; a value that
cannot mean anything gives no rows rather than an error. All of them narrow a queryset that came
through ``cases_for``; none widens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from xinfang.api.filters import FILTER_NAMES as API_FILTERS
from xinfang.api.filters import filter_cases
from xinfang.api.membership import parse_id
from xinfang.cases import choices as c
from xinfang.cases.disclosure import revealable_links
from xinfang.cases.models import Assignment, Case, Demand
from xinfang.org.models import Membership, Unit
from xinfang.security.names import MAX_LENGTH as MAX_NAME
from xinfang.security.names import name_index

FLAGS = {
    "key_case": Q(key_case=True),
    "repeat": Q(repeat_count__gt=0),
    "level_skipping": Q(level_skipping=True),
    "collective": Q(collective=True),
    "household": Q(exited_household=True) | Q(monitored_household=True),
    "confidential": Q(confidential=True),
}
LEDGER_FILTERS = ("category", "village", "unit", *FLAGS, "received_from", "received_to",
                  "petitioner")
FILTER_NAMES = (*API_FILTERS, *LEDGER_FILTERS)
TRUE = {"true", "1", "yes", "on"}

def _values(params: Mapping, name: str) -> list[str]:
    """Every non-blank value of ``name`` (a name may repeat: ``?category=a&category=b``)."""
    if hasattr(params, "getlist"):
        raw = params.getlist(name)
    else:
        raw = params.get(name)
        raw = raw if isinstance(raw, list | tuple) else ([] if raw is None else [raw])
    return [str(v).strip() for v in raw if str(v).strip() != ""]


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _ids(values: list[str]) -> list[int] | None:
    ids = [parse_id(v) for v in values]
    return None if None in ids else ids


def filter_ledger(qs: QuerySet[Case], params: Mapping, *, by: Membership | None = None,
                  now: datetime | None = None) -> QuerySet[Case]:
    """The API's filters, then the ledger's own; ``by`` is whom the rows are for (the name
    search finds only the people ``by`` may reveal); ``now``: the instant ``overdue`` is
    asked at (by default the present)."""
    qs = filter_cases(qs, params, now=now)
    if any("\x00" in v for name in LEDGER_FILTERS for v in _values(params, name)):
        return qs.none()
    if values := _values(params, "category"):
        qs = qs.filter(Exists(Demand.objects.filter(case=OuterRef("pk"), category__in=values)))
    if values := _values(params, "village"):
        if (ids := _ids(values)) is None:
            return qs.none()
        qs = qs.filter(village_id__in=ids)
    if values := _values(params, "unit"):
        if (ids := _ids(values)) is None:
            return qs.none()
        paths = list(Unit.objects.filter(pk__in=ids).values_list("path", flat=True))
        if not paths:
            return qs.none()
        under = Q()
        for path in paths:
            under |= Q(unit__path__under=path)
        assigned = Assignment.objects.filter(
            under,
            case=OuterRef("pk"),
            status__in=[c.AssignmentStatus.ACTIVE, c.AssignmentStatus.ENDED],
        )
        qs = qs.filter(Exists(assigned))
    for name, condition in FLAGS.items():
        if values := _values(params, name):
            if {v.lower() for v in values} <= TRUE:
                qs = qs.filter(condition)
            else:
                return qs.none()
    for raw in _values(params, "petitioner"):
        index = name_index(raw[:MAX_NAME])
        if not index:
            return qs.none()
        people = revealable_links(by).filter(case=OuterRef("pk"), petitioner__name_index=index)
        qs = qs.filter(Exists(people))
    for name, lookup, shift in (
        ("received_from", "received_at__gte", 0),
        ("received_to", "received_at__lt", 1),
    ):
        for raw in _values(params, name):
            day = parse_day(raw)
            if day is None:
                return qs.none()
            qs = qs.filter(**{lookup: _start_of(day + timedelta(days=shift))})
    return qs


# -- the registers' filters (L1, L2), shared by their pages, the API exports and the command -----

REGISTER_FILTERS = ("month", "township", "category", "from", "to", "resolved")


def parse_month(raw: str) -> date | None:
    """``YYYY-MM``, or None: ASCII digits only (``isdigit`` takes ² too, which ``int`` refuses),
    and a year ``date`` can hold (``month=0-01`` was a server error, not an empty ledger)."""
    parts = raw.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    try:
        return date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        return None


def filter_findings(qs, params: Mapping):
    """L1: ``month`` (YYYY-MM), ``township`` (unit id; its villages included), ``category``,
    ``from``/``to`` (排查时间, YYYY-MM-DD inclusive). A value that means nothing gives no rows."""
    if any("\x00" in v for name in REGISTER_FILTERS for v in _values(params, name)):
        return qs.none()
    for raw in _values(params, "month"):
        if (month := parse_month(raw)) is None:
            return qs.none()
        qs = qs.filter(month=month)
    if values := _values(params, "township"):
        if (ids := _ids(values)) is None:
            return qs.none()
        qs = qs.filter(township_id__in=ids)
    if values := _values(params, "category"):
        qs = qs.filter(category__in=values)
    for name, lookup in (("from", "screened_on__gte"), ("to", "screened_on__lte")):
        for raw in _values(params, name):
            if (day := parse_day(raw)) is None:
                return qs.none()
            qs = qs.filter(**{lookup: day})
    return qs


def filter_backlog(qs, params: Mapping):
    """L2: ``township`` (unit id), ``category``, ``resolved`` (true: resolved lines only, false:
    open ones), ``from``/``to`` (初访时间, YYYY-MM-DD inclusive)."""
    if any("\x00" in v for name in REGISTER_FILTERS for v in _values(params, name)):
        return qs.none()
    if values := _values(params, "township"):
        if (ids := _ids(values)) is None:
            return qs.none()
        qs = qs.filter(township_id__in=ids)
    if values := _values(params, "category"):
        qs = qs.filter(category__in=values)
    for raw in _values(params, "resolved"):
        if raw.lower() in TRUE:
            qs = qs.filter(resolved_at__isnull=False)
        elif raw.lower() in {"false", "0", "no", "off"}:
            qs = qs.filter(resolved_at__isnull=True)
        else:
            return qs.none()
    for name, lookup in (("from", "first_petition_on__gte"), ("to", "first_petition_on__lte")):
        for raw in _values(params, name):
            if (day := parse_day(raw)) is None:
                return qs.none()
            qs = qs.filter(**{lookup: day})
    return qs


def register_filters_applied(params: Mapping) -> dict:
    """The register filters given, for the audit entry."""
    return {name: values for name in REGISTER_FILTERS if (values := _values(params, name))}
