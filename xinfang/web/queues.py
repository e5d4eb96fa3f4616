"""Each role's work queue: the cases waiting for it, overdue and due-soon first.

Every bucket starts from ``cases_for(membership)`` — the permission door — or, for an office's own
to-do buckets, from the same door's cases of the office's jurisdiction (``Door.cases_in``), and
narrows it by state and, for handling units, by the unit's own active assignment. The buckets
approximate what ``available()`` would offer (the case page asks it exactly); they are a to-do
list, not a door.

The overview shows the first ``PER_BUCKET`` rows of each bucket and a count that stops at
``QUEUE_COUNT_CAP``; "查看全部" opens one bucket alone, a page of ``BUCKET_PAGE`` rows at a time
(``queue_page``). A page renders a fixed number of rows whatever the size of the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import ClassVar

from django.db import router
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.duesort import due_first, past_due
from xinfang.cases.models import Case, Clock, Demand, WarningNotice
from xinfang.cases.paging import CappedPaginator, KeptList, capped_counts_of, count_statement
from xinfang.cases.selectors import DOOR_ATTR, cases_for, door_for, lead_unit_names, main_names
from xinfang.cases.services.base import unit_jurisdiction
from xinfang.db.fixed import ManyRead
from xinfang.db.written import Written
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit
from xinfang.security.masking import mask_name

from .present import ClockView, clock_view, clock_words

S = c.State
PER_BUCKET = 10  # rows of each bucket on the overview
BUCKET_PAGE = 50  # rows of a page of one bucket ("查看全部")
QUEUE_COUNT_CAP = 1000  # a bucket's count stops here ("1000+")


@dataclass
class Row:
    case: Case
    petitioner: str  # masked
    categories: str
    clocks: list[ClockView]


@dataclass
class Bucket:
    key: str
    label: str
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    capped: bool = False  # more than QUEUE_COUNT_CAP
    more: str = ""  # a ledger filter (query string) listing the whole bucket
    page: object = None  # the Page when one bucket is shown alone

    @property
    def total_text(self) -> str:
        return f"{QUEUE_COUNT_CAP}+" if self.capped else str(self.total)


Filter = Callable[[QuerySet, Membership, datetime], QuerySet]


@dataclass(frozen=True)
class _States:
    """The cases in ``states``: a filter that reads neither the membership nor the time, so an
    office's bucket of it is compiled once per door (``fixed``, ``_kept``)."""

    states: tuple[str, ...]
    fixed: ClassVar[bool] = True

    def __call__(self, qs: QuerySet, m: Membership | None, now: datetime | None) -> QuerySet:
        # written into the statement (``Written``): each bucket's plan knows its states, where
        # one bound text served four buckets and the archive's was planned again on every page
        return qs.filter(Written(F("state"), self.states))


def _state(*states: str) -> Filter:
    return _States(states)


def fixed(narrow: Filter) -> Filter:
    """Marks a filter that reads neither the membership nor the time (``_States``): an office's
    bucket of it is one statement for every request through the same door (``_kept``)."""
    narrow.fixed = True
    return narrow


def _undecided():
    return Demand.objects.filter(case=OuterRef("pk"), finding="")


def _held(m: Membership, *, signed: bool | None = None, lead: bool = False) -> probes.Probe:
    """The case is one ``m``'s unit holds an active assignment of (``Door.held``): signed for
    or not, as the lead unit or any. The ids go as one array on PostgreSQL (``probes.among``):
    a busy township holds some 1,100 cases, and as 1,100 parameters each of its four buckets
    (and their count) took 5–7 ms to bind and run at 1M, against 2.4–4.1 as one array."""
    return probes.among("id", tuple(sorted(
        {case_id for case_id, was_signed, role in door_for(m).held
         if (signed is None or was_signed == signed)
         and (not lead or role == c.AssignmentRole.LEAD)})))


def _to_sign_for(qs, m, now):
    return qs.filter(_held(m, signed=False), state__in=[S.ASSIGNED, S.IN_PROGRESS])


def _to_handle(qs, m, now):
    return qs.filter(
        Exists(_undecided()),
        _held(m, signed=True),
        state__in=[S.IN_PROGRESS, S.EXTENSION_REQUESTED],
    )


def _to_draft(qs, m, now):
    return qs.filter(~Exists(_undecided()), _held(m, signed=True, lead=True),
                     state=S.IN_PROGRESS)


def _to_reply(qs, m, now):
    return qs.filter(_held(m), state__in=[S.LETTER_APPROVED, S.LETTER_ISSUED])


def _transferred(qs, m, now):
    return qs.filter(transferred_to_discipline=True, state__in=c.OPEN_STATES)


def _running(**clock_filter):
    """The cases with a running deadline clock matching ``clock_filter`` — a subquery over the
    clocks' (status, due_at) index, read once rather than probed per case."""
    return Clock.objects.filter(
        status=Clock.Status.RUNNING, kind="deadline", **clock_filter
    ).values("case_id")


def _overdue(qs, m, now):
    # The soonest running deadline is kept on the case (``next_due_at``, by the clock engine);
    # a case closed with a deadline left running is not late.
    return past_due(qs, now)


def _due_soon(qs, m, now):
    # Each clock has its own "due soon" span (due_soon_hours, a day by default); three days
    # bounds the query, the exact span is applied per clock in ``queue_for``.
    return qs.filter(pk__in=_running(due_at__gte=now, due_at__lte=now + timedelta(days=3)))


@fixed
def _warned(qs, m, now):
    return qs.filter(pk__in=WarningNotice.objects.filter(answered_at=None).values("case_id"))


def _home(m: Membership):
    """The jurisdiction whose office ``m`` works in (the unit itself when it has a profile);
    ``unit_jurisdiction`` keeps it on the unit for the request."""
    return unit_jurisdiction(m.unit)


@dataclass(frozen=True)
class _own:  # lower case: read in the tables below as a wrapper, like the filters it wraps
    """An office's to-do bucket holds its own jurisdiction's cases: a city clerk sees the
    districts' cases (supervision) but cannot propose, assign or issue in them. Its base is the
    door's cases of that one jurisdiction (``_base``, ``Door.cases_in``), not the door's whole
    subtree narrowed by an equality the planner would count twice."""

    narrow: Filter

    def __call__(self, qs: QuerySet, m: Membership, now: datetime) -> QuerySet:
        return self.narrow(qs, m, now)


class _unit_held(_own):  # lower case, as ``_own``: a wrapper read in the tables below
    """A handling unit's to-do bucket: every one keeps cases its unit holds an active
    assignment of (``_held``), so its base is the door's cases without the door's inclusion
    (``Door.cases_held``), the exclusions kept; the bucket's filter narrows the ids."""


def _base(m: Membership, narrow: Filter) -> QuerySet:
    """The cases a bucket narrows: the door's, or for an office's own bucket (``_own``) the
    door's cases of the office's jurisdiction (none when the unit has no office above it), or
    for a handling unit's (``_unit_held``) the door's cases held by the unit itself, or for the
    watched bucket (``_lower``) the door's cases of the offices below."""
    if isinstance(narrow, _unit_held):
        return door_for(m).cases_held()
    if isinstance(narrow, _lower):
        return _below(m)
    if not isinstance(narrow, _own):
        return cases_for(m)
    home = _home(m)
    return door_for(m).cases_in(home) if home is not None else Case.objects.none()


def _lower_offices(m: Membership) -> tuple[int, ...]:
    """The offices below ``m``'s own (a county's: none), read alone: the door's whole subtree
    is not read for them (a county's 230 units to find none)."""
    home = _home(m)
    if home is None:
        return ()
    return tuple(pk for pk in Unit.offices_under(home.path) if pk != home.pk)


def _below(m: Membership) -> QuerySet:
    """The door's cases of the offices below ``m``'s own (the watched bucket's base): where the door
    is the office's own, those offices' ids are its scope (``Door.cases_of_offices``), else the
    door's cases narrowed to them. None at all for a county: nothing is asked."""
    lower = _lower_offices(m)
    if not lower:
        return Case.objects.none()
    door, home = door_for(m), _home(m)
    if door.kind == "office" and door.path == home.path:
        return door.cases_of_offices(lower)
    return cases_for(m).filter(jurisdiction_id__in=lower)


@dataclass(frozen=True)
class _lower:  # lower case, as ``_own``: a wrapper read in the tables below
    """The watched bucket: open cases of other (lower) offices the user may see but not act on,
    a heading of its own, not mixed into the to-do buckets. Its base is their cases already
    (``_below``).

    The offices below are read first (a case's jurisdiction is an office: a unit with a
    profile): a county has none, and its bucket then asks nothing — "any jurisdiction but mine"
    made the database walk every case of the province to find none. Nor is the door's list
    built for it: 0.6 ms of a county clerk's queue at 200k (lead41); a city's districts are
    the scope of its statement, not a test beside the door's subtree (lead41)."""

    narrow: Filter

    def __call__(self, qs: QuerySet, m: Membership, now: datetime) -> QuerySet:
        return self.narrow(qs, m, now)


def _open(qs, m, now):
    return qs.filter(state__in=c.OPEN_STATES)


WATCH = ("watch", _("下级机关在办信访件（仅供查看）"), _lower(_open), "")
HANDLER_BUCKETS = [
    ("sign_for", _("待签收"), _unit_held(_to_sign_for), ""),
    ("handle", _("待办理（调查核实、核查认定）"), _unit_held(_to_handle), ""),
    ("draft", _("待起草处理意见书"), _unit_held(_to_draft), ""),
    ("reply", _("意见书待出具、送达"), _unit_held(_to_reply), ""),
]
QUEUES: dict[str, list[tuple[str, str, Filter, str]]] = {
    Role.CLERK: [
        ("propose", _("待拟办（处置建议）"), _own(_state(S.REGISTERED)), "state=registered"),
        ("assign", _("待交办"), _own(_state(S.SIGNED_OFF)), "state=signed_off"),
        ("issue", _("意见书待出具"), _own(_state(S.LETTER_APPROVED)), "state=letter_approved"),
        ("deliver", _("待送达"), _own(_state(S.LETTER_ISSUED)), "state=letter_issued"),
        ("archive", _("待归档"), _own(_state(*c.ENDED_STATES)), ""),
        WATCH,
    ],
    Role.APPROVER: [
        ("sign_off", _("待审签"), _own(_state(S.PROPOSED)), "state=proposed"),
        (
            "extension",
            _("延期待批"),
            _own(_state(S.EXTENSION_REQUESTED)),
            "state=extension_requested",
        ),
        ("letter", _("意见书待审批"), _own(_state(S.LETTER_DRAFTED)), "state=letter_drafted"),
        ("close", _("待销号"), _own(_state(S.DELIVERED)), "state=delivered"),
        ("warning", _("预警提醒单待回复"), _own(_warned), ""),
        WATCH,
    ],
    Role.CHIEF: [
        (
            "countersign",
            _("待主要领导签批"),
            _own(_state(S.AWAITING_COUNTERSIGN)),
            "state=awaiting_countersign",
        ),
        ("close", _("待办结签（销号）"), _own(_state(S.DELIVERED)), "state=delivered"),
        WATCH,
    ],
    Role.UNIT_HANDLER: HANDLER_BUCKETS,
    Role.PROXY_AGENT: HANDLER_BUCKETS,
    Role.LINE_HEAD: HANDLER_BUCKETS,
    Role.DISCIPLINE: [
        ("transferred", _("移送本机关的信访件"), _transferred, ""),
        *HANDLER_BUCKETS,
    ],
    Role.INSPECTOR: [
        ("overdue", _("已超期"), _overdue, ""),
        ("soon", _("即将到期"), _due_soon, ""),
        ("warned", _("已预警、未回复"), _warned, ""),
    ],
}


# Buckets of cases whose deadlines have all ended (closing and declining stop every one): sorted
# newest first, straight off the (registered_at, id) index, not by a next due that is always empty.
ENDED_BUCKETS = {"archive"}


# The columns a row shows (``present.case_rows_html``, ``present.clock_view``): a list reads
# these, not the case's 55 columns. Django builds each selected column of an ordered statement
# into an expression it hashes, and each row's fields into the instance.
ROW_COLUMNS = ("number", "matter", "state")


def running_clocks(case_ids: list[int]) -> QuerySet:
    """The cases' running clocks as ``(case id, *RowClock's fields)``, in no order: ``rows``
    sorts each case's few. Asked for in the due order, SQLite walked the (status, due_at) index
    through every running clock of the province for the fifty cases' (18 ms at 200k cases,
    against 0.2 ms by case)."""
    return Clock.objects.filter(case_id__in=case_ids, status=Clock.Status.RUNNING).order_by(
        ).values_list("case_id", "pk", "status", "met", "kind", "due_at", "due_soon_hours",
                      "label")


# A page's rows' clocks and categories, compiled once per number of rows (``ManyRead``).
_RUNNING_CLOCKS = ManyRead(running_clocks)
_CATEGORIES = ManyRead(lambda ids: Demand.objects.filter(case_id__in=ids).order_by(
    "case_id", "seq").values_list("case_id", "category"))


@dataclass(frozen=True, slots=True)
class RowClock:
    """A running clock as a row shows it: the fields ``present.clock_view`` and the row's
    deadline title read, nothing more."""

    pk: int
    status: str
    met: bool | None
    kind: str
    due_at: datetime
    due_soon_hours: int
    label: str


def row_details(cases: list[Case], *, lead_units: bool = False) -> None:
    """What each row shows beside the case, for all the rows at once, as plain values: its
    running clocks (``running_clocks``, ``RowClock``), its main petitioners' names
    (``main_names``, decrypted, the name column alone) and its demands' categories
    (``categories``, in their order); with ``lead_units``, the names of the units leading its
    handling (``lead_units``, the ledger's 承办单位). One statement each, whatever the number of
    rows. Read through ``prefetch_related`` these were some 300 model instances and the
    prefetch's bookkeeping for a clerk's queue of fifty rows: 6 of its 23 ms at 1M cases,
    against 1.9 ms of SQL."""
    if not cases:
        return
    ids = [case.pk for case in cases]
    clocks: dict[int, list[RowClock]] = {}
    for case_id, *fields in _RUNNING_CLOCKS(ids):
        clocks.setdefault(case_id, []).append(RowClock(*fields))
    names = main_names(ids)
    categories: dict[int, list[str]] = {}
    for case_id, category in _CATEGORIES(ids):
        categories.setdefault(case_id, []).append(category)
    units = lead_unit_names(ids) if lead_units else {}
    for case in cases:
        case.running_clocks = clocks.get(case.pk, [])
        case.main_names = names.get(case.pk, [])
        case.categories = categories.get(case.pk, [])
        if lead_units:
            case.lead_units = units.get(case.pk, [])


def ordered(qs: QuerySet, *, by_due: bool = True) -> QuerySet:
    """Soonest running deadline first (overdue before due soon before the rest), then newest."""
    order = (due_first(),) if by_due else ()
    return qs.order_by(*order, "-registered_at", "-pk").only(*ROW_COLUMNS)


def rows(cases, now: datetime, *, lead_units: bool = False) -> list[Row]:
    """The rows of a list of cases (a page's or a bucket's), each with what ``row_details``
    reads beside it: the petitioners' names masked, the categories once each."""
    cases = list(cases)
    row_details(cases, lead_units=lead_units)
    words = clock_words()  # the request's language once, not per clock
    return [
        Row(
            case=case,
            petitioner="、".join(mask_name(name) for name in case.main_names),
            categories="、".join(dict.fromkeys(case.categories)),
            clocks=[clock_view(k, now, words) for k in
                    sorted(case.running_clocks, key=lambda k: (k.due_at, k.pk))],
        )
        for case in cases
    ]


def _buckets(m: Membership):
    return QUEUES.get(m.role, [])


def _narrowed(m: Membership, now: datetime, narrow: Filter, key: str) -> QuerySet:
    return ordered(narrow(_base(m, narrow), m, now), by_due=key not in ENDED_BUCKETS)


def _shown(key: str, found: list[Row]) -> list[Row]:
    # "Due soon" is each clock's own span (due_soon_hours): the query bounds it to three days.
    if key == "soon":
        return [r for r in found if any(v.tone == "soon" for v in r.clocks)]
    return found


def _kept(m: Membership, narrow: Filter, key: str, alias: str) -> KeptList | None:
    """The bucket ``narrow`` of ``m``'s office, or of ``m``'s handling unit (``_kept_held``), as
    statements compiled once per door (``KeptList``), or None where the bucket is built for
    each request.

    An office's bucket of a ``fixed`` filter is the door's cases of the office's jurisdiction
    (``Door.cases_in``, which then reads no units) in some states: its statements are a
    function of the door (its key and the recusals it read), the office, the filter and the
    order alone. Built and compiled through the ORM on every request, a clerk's five buckets and
    their count took 3–4 ms of the work queue's CPU at 200k cases (lead41); a request now only
    runs them."""
    if isinstance(narrow, _unit_held):
        return _kept_held(m, narrow, key, alias)
    if not (isinstance(narrow, _own) and getattr(narrow.narrow, "fixed", False)):
        return None
    door, home = door_for(m), _home(m)
    if door.kind != "office" or home is None or not home.path.startswith(door.path):
        return None
    recusals = (door.recused_cases, door.recused_petitioners, door.recused_words)
    return _kept_bucket(alias, door.key[:4], recusals, home.pk, narrow, key not in ENDED_BUCKETS)


@lru_cache(maxsize=1024)
def _kept_bucket(alias: str, *key) -> KeptList:
    return KeptList(alias)


def _kept_held(m: Membership, narrow: Filter, key: str, alias: str) -> KeptList | None:
    """A handling unit's bucket (``_unit_held``) as statements compiled once per door and per
    set of the unit's active assignments (``Door.held``, whose ids the statements carry).

    The door and its recusals are the key, as an office's are; the assignments are not (a busy
    township's 1,244 would make each key a large tuple): the slot keeps the list with the
    assignments it was compiled for, and a request whose door holds other ones (a case
    assigned, signed for or ended since) compiles a new one. The pair is read and replaced
    whole, so a request never runs a list compiled for another request's assignments. Built
    through the ORM on every request, an ordinary township's four buckets and their counts
    were about a third of its queue's CPU (lead47). A membership whose door was not remembered
    for the request (``door_remember``) has its buckets built: its filters would read a door
    of their own."""
    door = getattr(m, DOOR_ATTR, None)  # the request's door, which every bucket reads
    if door is None or door.kind != "unit":
        return None
    recusals = (door.recused_cases, door.recused_petitioners, door.recused_words)
    slot = _held_slot(alias, door.key[:4], recusals, narrow, key not in ENDED_BUCKETS)
    held, current = door.held, slot.get("list")
    if current is None or current[0] != held:
        current = slot["list"] = (held, KeptList(alias))
    return current[1]


@lru_cache(maxsize=256)
def _held_slot(alias: str, *key) -> dict:
    return {}


def queue_for(m: Membership, now: datetime) -> list[Bucket]:
    """Every bucket of ``m``'s queue: its first ``PER_BUCKET`` rows and its capped count.

    One query per bucket for its cases, then the rows' clocks, petitioners and categories for
    all buckets at once (three queries, not three per bucket), and the full buckets' counts in
    one more: a clerk's six buckets cost ten queries rather than up to twenty-four. An office's
    own buckets are compiled once per door (``_kept``)."""
    alias = router.db_for_read(Case)
    # each bucket, its count (a kept statement, or the queryset to compile when it is full)
    # and its first rows
    fetched: list[tuple[Bucket, tuple[str, tuple] | QuerySet | None, list[Case]]] = []
    # The buckets of one kind share their base (a clerk's five own buckets): the door's
    # exclusions are built into a queryset once, each bucket narrows a copy.
    bases: dict[type, QuerySet] = {}
    for key, label, narrow, more in _buckets(m):
        bucket = Bucket(key=key, label=str(label), more=more)
        kept = _kept(m, narrow, key, alias)
        if kept is not None:
            # the membership not given to an office's filter: a ``fixed`` one that read it
            # would fail, once; a unit's reads its door's held assignments, the list's key
            given = m if isinstance(narrow, _unit_held) else None

            def build(at, narrow=narrow, by_due=key not in ENDED_BUCKETS, given=given):
                return ordered(narrow(_base(m, narrow), given, at), by_due=by_due)

            found = kept.rows(0, PER_BUCKET, PER_BUCKET, build, now)
            fetched.append((bucket, kept.count_statement(build, QUEUE_COUNT_CAP, now), found))
            continue
        kind = type(narrow)
        if kind not in bases:
            bases[kind] = _base(m, narrow)
        qs = ordered(narrow(bases[kind], m, now), by_due=key not in ENDED_BUCKETS)
        fetched.append((bucket, qs, list(qs[:PER_BUCKET])))
    # Every bucket's rows at once: their details in three statements, not three per bucket.
    made = iter(rows([case for *_, cases in fetched for case in cases], now))
    # A full bucket is counted (to its cap); all of them in one statement.
    full = [i for i, (_bucket, _counted, cases) in enumerate(fetched)
            if len(cases) >= PER_BUCKET]
    counts = capped_counts_of([
        count_statement(counted, QUEUE_COUNT_CAP) if isinstance(counted, QuerySet) else counted
        for counted in (fetched[i][1] for i in full)], alias)
    totals = dict(zip(full, counts, strict=True))
    buckets = []
    for i, (bucket, _counted, cases) in enumerate(fetched):
        bucket.rows = _shown(bucket.key, [next(made) for _case in cases])
        if i in totals:
            n = totals[i]
            bucket.total, bucket.capped = min(n, QUEUE_COUNT_CAP), n > QUEUE_COUNT_CAP
        else:
            bucket.total = len(bucket.rows)
        buckets.append(bucket)
    return buckets


def bucket_keys(m: Membership) -> list[str]:
    return [key for key, *_ in _buckets(m)]


def bucket_cases(m: Membership, now: datetime, key: str) -> QuerySet | None:
    """The cases of ``m``'s bucket ``key`` in the queue's order, with each row's prefetches
    (``None``: ``m`` has no such bucket)."""
    for k, _label, narrow, _more in _buckets(m):
        if k == key:
            return _narrowed(m, now, narrow, key)
    return None


def queue_page(m: Membership, now: datetime, key: str, number) -> Bucket | None:
    """One bucket alone, a page of ``BUCKET_PAGE`` rows (``None``: ``m`` has no such bucket)."""
    for k, label, _narrow, more in _buckets(m):
        if k != key:
            continue
        paginator = CappedPaginator(bucket_cases(m, now, key), BUCKET_PAGE)
        paginator.cap = QUEUE_COUNT_CAP
        page = paginator.get_page(number)
        bucket = Bucket(key=key, label=str(label), more=more, page=page)
        bucket.rows = _shown(key, rows(page.object_list, now))
        bucket.total, bucket.capped = min(paginator.count, QUEUE_COUNT_CAP), paginator.capped
        return bucket
    return None
