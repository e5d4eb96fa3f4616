"""The one permission door for reading cases: every list, page, export, search and API call asks
``cases_for(membership)`` and works on what it returns. Nothing reads ``Case.objects`` directly.

Who sees what (issue 4, seed 000 §九):
- the petition office (clerk, approver, chief) and inspectors: the cases of their jurisdiction and
  of the jurisdictions under it;
- a handling unit (unit_handler, proxy_agent, line_head, discipline): the cases ever assigned to it
  or to a unit under it;
- the three administrators: no case at all;
- never a case in which the user, or the user's unit, is the respondent, nor one the user has
  recused from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, router
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.db.transaction import TransactionManagementError
from django.utils.crypto import constant_time_compare

from xinfang.db.fixed import PROBE, FixedRead, ManyRead, Shape, TreeRead, read_shape, shape
from xinfang.db.remembered import OverTheBound
from xinfang.db.written import Written
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, Unit
from xinfang.security.models import Recusal

from . import probes
from .choices import PETITIONING_ROLES, AssignmentRole, AssignmentStatus
from .models import Assignment, Case, CaseEvent, CasePetitioner, Respondent
from .related import read_case_compiled
from .services.base import is_office_at, unit_jurisdiction

OFFICE_READERS = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
UNIT_READERS = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}
# A subtree this small is read into a list of ids (the planner then knows exactly what it
# filters on); a bigger one (a province's villages) stays a subquery the database runs once.
MAX_LISTED_UNITS = 2000
# A handling unit holding at most this many cases names them by id in its lists on PostgreSQL
# (``Door.handled``), written into the statement as one array (``probes.named``).
MAX_LISTED_CASES = 20_000
# The listed units found holding more than ``MAX_LISTED_CASES`` (with the bound they were read
# under), so that their later requests do not read the bound's ids again before they fall back:
# a unit's assignments are kept, not deleted, and either way the list holds the same cases.
_OVER_THE_BOUND = OverTheBound()
# The subtrees found over ``MAX_LISTED_UNITS`` (with the bound), by path: their later doors take
# the subquery at once (a city's 2,165 units: ~3 ms of each of its pages at 1M, lead41).
_SUBTREES_OVER = OverTheBound()


# The user's active recusals, asked by every list's door: one statement compiled once
# (``db.fixed``).
_RECUSALS = FixedRead(lambda user_id: Recusal.objects.filter(user_id=user_id, is_active=True)
                      .values_list("case_id", "petitioner_id", "matter_words"))


class Door:
    """What one membership may read, worked out once per request: the unit tree, the respondent
    units and the recusals are read here and nowhere per row. ``kind`` is ``"office"`` (the
    cases of the jurisdiction at ``path`` and under it), ``"unit"`` (the cases assigned to the
    unit at ``path`` or under it) or ``None`` (no case at all); the rest are exclusions.

    The subtree's ids and the user's recusals are read on first need (one query each, then
    kept): a list asks for both; a single case (``apply_one``: the case page, an action) needs
    neither, its scope and recusal tests being part of the statement that reads the case."""

    def __init__(self, kind: str | None, *, path: str = "", inside: tuple[int, ...] = (),
                 user_id: int | None = None, recusals: tuple | None = None):
        self.kind, self.path, self.inside, self.user_id = kind, path, inside, user_id
        if recusals is not None:  # known already: (cases, petitioners, words), as ``_recusals``
            self.__dict__["_recusals"] = recusals

    # -- read on first need ------------------------------------------------------------------

    @cached_property
    def _tree(self) -> tuple[list[int] | QuerySet, list[int] | None]:
        return _subtree_and_offices(self.path)

    @property
    def units(self) -> list[int] | QuerySet:
        return self._tree[0]

    @cached_property
    def jurisdictions(self) -> list[int]:
        """An office door's jurisdictions as a list: the offices among its units
        (``Unit.offices_under``: a county's one or two among its 230 units, a city's 10 among
        2,165, a province's 168 among 37,053), where every case of the door's subtree lies —
        read with the listed units, or on their own for a door too big to list them."""
        offices = self._tree[1]
        return offices if offices is not None else list(Unit.offices_under(self.path))

    @cached_property
    def kept_out(self) -> set[int] | None:
        """The cases an office door keeps from its reader although they lie in its
        jurisdictions (a superset is enough: the kept figures count them again through the
        door): those of which the reader or its units are respondents, and those it recused
        from. None: not an office door (its scope is not the jurisdictions' cases). Read once a
        door: a report asks for it for each period it counts."""
        if self.kind != "office":
            return None
        out = set(self._accused().values_list("case_id", flat=True))
        out |= set(self.recused_cases)
        if self.recused_petitioners:
            out |= set(CasePetitioner.objects.filter(petitioner_id__in=self.recused_petitioners)
                       .values_list("case_id", flat=True))
        for words in self.recused_words:
            out |= set(Case.objects.filter(jurisdiction_id__in=self.jurisdictions,
                                           matter__contains=words).values_list("pk", flat=True))
        return out

    @cached_property
    def _recusals(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
        cases, people, words = [], [], []
        if self.user_id is None:  # no one's door: no one's recusals
            return (), (), ()
        for case_id, petitioner_id, matter_words in _RECUSALS(self.user_id):
            if case_id:
                cases.append(case_id)
            if petitioner_id:
                people.append(petitioner_id)
            if matter_words:
                words.append(matter_words)
        return tuple(cases), tuple(people), tuple(words)

    @property
    def recused_cases(self) -> tuple[int, ...]:
        return self._recusals[0]

    @property
    def recused_petitioners(self) -> tuple[int, ...]:
        return self._recusals[1]

    @property
    def recused_words(self) -> tuple[str, ...]:
        return self._recusals[2]

    @property
    def recusals_known(self) -> bool:
        """Whether the recusals were read already (then ``any_recusal`` costs nothing)."""
        return "_recusals" in self.__dict__

    @property
    def any_recusal(self) -> bool:
        return any(self._recusals)

    @property
    def key(self) -> tuple:
        """What the door's one-case statements are made of (``apply_one``): a door made again
        from it (``of_key``) writes the same text and parameters, so a statement compiled for
        one door serves every request whose door has the same key (``read_case_through``)."""
        return (self.kind, self.path, self.inside, self.user_id,
                self.recusals_known and not self.any_recusal)

    @classmethod
    def of_key(cls, key: tuple) -> Door:
        kind, path, inside, user_id, no_recusal = key
        return cls(kind, path=path, inside=inside, user_id=user_id,
                   recusals=((), (), ()) if no_recusal else None)

    # -- the inclusion and the exclusions ----------------------------------------------------

    @property
    def scope(self) -> Q | None:
        if self.kind is None:
            return None
        units = self.units
        if self.kind == "office":
            if not isinstance(units, list):
                # More units than can be listed: a province's or a big city's door, holding
                # most of the cases it reads. Each case's jurisdiction is tested where the
                # case is read (the probe for one case), so a page walks its sort's index and
                # stops at fifty: "jurisdiction IN (the subtree)" made SQLite gather and sort
                # all 200,000 cases of the province for a ledger page (309 ms).
                return Q(probes.in_jurisdictions_under(self.path))
            if self._lists_offices:
                return Q(probes.named("jurisdiction_id", tuple(self.jurisdictions)))
            # the subtree's listed ids, written into the statement (``probes.named``)
            return Q(probes.named("jurisdiction_id", units))
        if self.handled is not None:
            return Q(probes.named("id", self.handled))
        return Q(pk__in=self._handled_rows().values("case_id"))

    @property
    def _lists_offices(self) -> bool:
        """Whether an office door with listed units names its offices in its lists (one or two
        for a county, where every case of the subtree lies), as its count does: on PostgreSQL,
        where one office is an equality and a list in date order walks that office's own index
        instead of the province's (lead48). SQLite, without statistics of each value, judged
        the short list worth a scan of the table with some orders (lead34): it keeps the
        subtree's ids."""
        return (self.kind == "office" and isinstance(self.units, list)
                and connection.vendor == "postgresql")

    def _handled_rows(self) -> QuerySet:
        return Assignment.objects.filter(probes.among_or_in("unit_id", self.units),
                                         status__in=HANDLED)

    @cached_property
    def handled(self) -> tuple[int, ...] | None:
        """A handling unit's door on PostgreSQL: the ids of the cases assigned to its listed
        units (active or ended), when there are at most ``MAX_LISTED_CASES``; None for more, for
        a subtree too big to list, and on SQLite. One read of the assignments' index a request.

        With ``id IN (the units' assignments)``, a list in date order may walk the date index
        and stop at fifty, which pays where the unit holds a good share of the cases. PostgreSQL
        guesses a township's share from the assignments' statistics, the same for each of its
        villages (which hold none): an ordinary township's 101 cases were planned as 2,552 and
        its ledger walked all 1,000,000 cases for them (1.0–1.3 s at 1M). Named by id, the
        database reads them by key and sorts them (0.4 ms); the busy township's 13,573 too (its
        search 191 → 97 ms, its other lists level). They are written into the statement
        (``probes.named``). SQLite drives these lists from the subquery's few rows already (an
        ordinary township's ledger 18 ms at 200k); named by id they gained nothing there and
        cost a statement."""
        if (self.kind != "unit" or not isinstance(self.units, list)
                or connection.vendor != "postgresql"):
            return None
        known = (tuple(self.units), MAX_LISTED_CASES)
        if known in _OVER_THE_BOUND:  # read over the bound before: 20,001 ids were ~9 ms
            return None
        rows = self._handled_rows().order_by().values("case_id")[: MAX_LISTED_CASES + 1]
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
        with connections[rows.db].cursor() as cursor:
            # counted and gathered by the database, in order, as one array: read as rows through
            # the ORM and sorted here, the busy township's 13,573 ids were 4.5 ms of its CPU
            cursor.execute(f"SELECT COUNT(*), ARRAY_AGG(DISTINCT s.case_id) FROM ({sql}) s",
                           params)
            count, ids = cursor.fetchone()
        if count <= MAX_LISTED_CASES:
            return tuple(ids or ())
        _OVER_THE_BOUND.add(known)
        return None

    def by_jurisdiction(self) -> Q:
        """An office door's subtree as a filter of rows kept by jurisdiction (a
        ``jurisdiction_id`` column: the kept figures' sums and totals): ``jurisdictions``.
        ``jurisdiction_id IN`` a province's 37,000 units made the figures' read slower on both
        databases than each row's jurisdiction tested under the door's path (lead24); its 168
        offices are faster than either (a city's figures 6.6 → 2.0 ms at 1M, lead28). The ids
        are written into the statement (``probes.named``): a province's sums and a county's
        share a text otherwise, and the plan kept after the fifth run of one served the other:
        the province's quarter read its month sums in 37 ms instead of 20, 27 with its own
        text (a worker keeping every text prepared, PERFORMANCE.md "lead35")."""
        return Q(probes.named("jurisdiction_id", tuple(self.jurisdictions)))

    def _accused(self) -> QuerySet:
        return Respondent.objects.filter(Q(unit_id__in=self.inside) | Q(user_id=self.user_id))

    def apply(self, qs: QuerySet[Case], *, scope: Q | None = None) -> QuerySet[Case]:
        """The door on ``qs``; ``scope`` stands for the door's own inclusion only where it is
        proven to select a part of it (``cases_in``)."""
        if self.kind is None:
            return qs.none()
        qs = qs.filter(self.scope if scope is None else scope)
        # A user inside the accused unit (the unit itself or any unit under it) never sees the
        # case. NOT IN over one subquery: the database reads the respondents once, not per row.
        qs = qs.exclude(pk__in=self._accused().values("case_id"))
        if self.recused_cases:
            qs = qs.exclude(pk__in=self.recused_cases)
        if self.recused_petitioners:
            links = CasePetitioner.objects.filter(petitioner_id__in=self.recused_petitioners)
            qs = qs.exclude(pk__in=links.values("case_id"))
        for words in self.recused_words:
            qs = qs.exclude(matter__contains=words)
        return qs

    def excluding(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """Only the door's exclusions on ``qs`` (the cases its reader or their unit is a
        respondent of, the recusals), not its scope: for a record kept beside a case that its
        keeper reads whatever its scope (a watch-list entry, ``practices.selectors``)."""
        return self.apply(qs, scope=Q())

    def all_cases(self) -> QuerySet[Case]:
        """``apply(Case.objects.all())``, built once per door (a door lives one request, and
        what it applies never changes in it) and handed out as a fresh copy each time: a page
        asks for it once per bucket, list and count, and building the scope and the exclusions
        cost ~0.3 ms of CPU each time."""
        built = self.__dict__.get("_all_cases")
        if built is None:
            built = self.__dict__["_all_cases"] = self.apply(Case.objects.all())
        return built._chain()  # a clone: never the shared object, never its result cache

    def counted_cases(self) -> QuerySet[Case] | None:
        """``all_cases()`` in the form a count is fastest in, where it differs from the list's
        (else None: count the list).

        - A handling unit's door holding more cases than it names (``handled``): its listed
          units' cases read by key (``probes.handled_by_listed``). The list keeps ``id IN
          (…)``, which lets a page walk the date index and stop at fifty; for a count, which
          reads every case to the cap, that form was a hash semi-join over the province's
          cases: a township's ledger spent 103 of its 171 ms counting to 10,001 (1M cases,
          PostgreSQL). A door naming its cases counts its list.
        - An office door: the cases of its offices (``jurisdictions``), as one array.
          - Too big to list its units (a city's, a province's; a city's 10 offices among its
            2,165 units): the list keeps the path probe, which lets a page walk the date index.
            A count tested each case's jurisdiction after the search's term, so a city clerk's
            search counted to 501 through 28,000 cases of the province, probing their demands
            (85–90 ms at 1M on PostgreSQL); the array is tested first (18–35 ms).
          - A county's (its one or two offices among 230 units) on SQLite: the list keeps the
            units, by which SQLite walks the registration index for the API's first page (on
            PostgreSQL the list names its offices and is counted as it is,
            ``_lists_offices``). Without each
            value's statistics SQLite judged the 230 worth a scan of the case table for a
            count: an ordinary county's search counted to 501 through all 200,000 cases (122 →
            62 ms, its overdue lists 65 → 43 and 49 → 31; PostgreSQL level)."""
        built = self.__dict__.get("_counted")
        if built is None:
            listed = self.kind is not None and isinstance(self.units, list)
            if self.kind == "unit" and self.handled is not None:
                return None  # the list names its few cases by id: counted as it is
            if self.kind == "unit" and listed:
                scope = Q(probes.handled_by_listed(HANDLED, tuple(self.units)))
            elif self._lists_offices:
                return None  # the list names its offices already: counted as it is
            elif self.kind == "office":
                scope = Q(probes.named("jurisdiction_id", tuple(self.jurisdictions)))
            else:
                return None
            built = self.__dict__["_counted"] = self.apply(Case.objects.all(), scope=scope)
        return built._chain()

    def cases_in(self, jurisdiction: Unit) -> QuerySet[Case]:
        """``all_cases()`` of one jurisdiction (an office's own to-do buckets). When the
        jurisdiction lies in an office door's subtree, ``jurisdiction_id = <it>`` implies the
        door's ``jurisdiction_id = ANY(<subtree>)``, which is then left out: PostgreSQL
        multiplies the two tests' selectivities and at 1M planned a county's 38,000 closed cases
        as 1,900 rows — a bitmap scan of them all to count a bucket to its cap. The exclusions
        (respondent side, recusals) stay as they are."""
        if self.kind != "office" or not jurisdiction.path.startswith(self.path):
            return self.all_cases().filter(jurisdiction=jurisdiction)
        built = self.__dict__.setdefault("_cases_in", {})
        if jurisdiction.pk not in built:
            built[jurisdiction.pk] = self.apply(Case.objects.all(),
                                                scope=Q(jurisdiction_id=jurisdiction.pk))
        return built[jurisdiction.pk]._chain()

    def cases_of_offices(self, offices: tuple[int, ...]) -> QuerySet[Case]:
        """``all_cases()`` of some offices under an office door's own path (the caller reads
        them there: ``Unit.offices_under(door.path)``), their ids the scope as ``cases_in``'s
        one jurisdiction is: the door's subtree is not read for them (a city clerk's watched
        districts, ``web.queues``). The exclusions stay as they are."""
        if self.kind != "office":
            raise ValueError("the cases of offices are an office door's")
        return self.apply(Case.objects.all(), scope=Q(probes.named("jurisdiction_id", offices)))

    @cached_property
    def held(self) -> tuple[tuple[int, bool, str], ...]:
        """The active assignments of the door's own unit (a handling unit's door): each case's
        id, whether it was signed for, and the unit's role in it — read once a request for
        every to-do bucket of the unit (``cases_held``)."""
        if self.kind != "unit":
            return ()
        # whether signed for, asked of the database: the instants read as datetimes were 60 %
        # of this read's CPU for the busy township's 1,244 assignments (2.1 → 0.9 ms)
        return tuple(Assignment.objects.filter(
            unit_id=self.inside[-1], status=AssignmentStatus.ACTIVE  # the unit itself
        ).values_list("case_id", IsNull(F("signed_for_at"), False), "role"))

    def cases_held(self) -> QuerySet[Case]:
        """``all_cases()`` for a caller that keeps only cases the door's own unit holds an
        active assignment of (their ids from ``held``). That assignment is one of the door's
        inclusion (an active or ended assignment of the unit or one under it), which is then
        left out, the exclusions kept: the database reads the unit's few hundred cases by id,
        where testing each case of the door's scope for the assignment walked the province's
        45,000 cases in progress for a busy township's bucket (133–185 ms at 1M cases)."""
        if self.kind != "unit":
            return self.all_cases()
        return self.apply(Case.objects.all(), scope=Q())

    def apply_one(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """The same door for a read of one case (or a few) by id: every test is a probe of that
        case's own rows (its jurisdiction's path, its assignments, respondents, petitioners and
        the user's recusals) inside the one statement — nothing is read beforehand. The probes
        are fixed SQL texts (``probes``), made once per door: the ORM form of the same tests
        cost milliseconds of CPU to build and compile on every read."""
        if self.kind is None:
            return qs.none()
        inside, accused, recused = self._probes
        qs = qs.filter(inside).exclude(accused)
        if self.recusals_known and not self.any_recusal:
            return qs
        return qs.exclude(recused)

    @cached_property
    def _probes(self) -> tuple[probes.Probe, probes.Probe, probes.Probe]:
        if self.kind == "office":
            inside = probes.in_jurisdictions_under(self.path)
        else:
            inside = probes.handled_under(HANDLED, self.path)
        return inside, probes.accused(self.inside, self.user_id), probes.recused(self.user_id)


HANDLED = [AssignmentStatus.ACTIVE, AssignmentStatus.ENDED]
NO_CASE = Door(None)


def _subtree(path: str) -> list[int] | QuerySet:
    """The ids of the unit at ``path`` and every unit under it — a list when short, else a
    subquery."""
    return _subtree_and_offices(path)[0]


# A subtree's first units with their profiles (an office's is not empty: ``OFFICE``'s rule),
# compiled once per path and number (``db.fixed.TreeRead``).
_SUBTREE_ROWS = TreeRead(Unit, lambda path, most: Unit.objects.filter(path__under=path)
                         .values_list("pk", "profile_code")[:most])


def _subtree_and_offices(path: str) -> tuple[list[int] | QuerySet, list[int] | None]:
    """``_subtree(path)``, and when it is a list the offices among its units (``OFFICE``, the
    rule ``Unit.offices_under`` reads by), in the same statement; None for a subtree too big
    to list."""
    under = Unit.objects.filter(path__under=path)
    known = (path, MAX_LISTED_UNITS)
    if known in _SUBTREES_OVER:
        return under.values_list("pk", flat=True), None
    rows = _SUBTREE_ROWS(path, MAX_LISTED_UNITS + 1)
    if len(rows) > MAX_LISTED_UNITS:
        _SUBTREES_OVER.add(known)
        return under.values_list("pk", flat=True), None
    return [pk for pk, _profile in rows], [pk for pk, profile in rows if profile]


def door_build(by: Membership | None) -> Door:
    """The door of ``by``; reads the unit tree above the user's unit when the unit is not a
    jurisdiction itself (one query), nothing else."""
    if by is None or not by.is_active or by.role in ADMIN_ROLES:
        return NO_CASE
    unit = by.unit
    if by.role in OFFICE_READERS:
        home = unit if unit.profile_code else unit_jurisdiction(unit)
        if home is None or (
            by.role != Role.INSPECTOR and not is_office_at(unit, home)
        ):
            return NO_CASE
        kind, path = "office", home.path
    elif by.role in UNIT_READERS:
        # Not a case transferred away (to discipline, when the misconduct may be the unit's own):
        # the unit sees what it handles, or handled to the end.
        kind, path = "unit", unit.path
    else:
        return NO_CASE
    return Door(kind, path=path, inside=tuple(unit.path_ids),
                user_id=by.user_id)


DOOR_ATTR = "_xinfang_door"


def door_remember(by: Membership | None) -> None:
    """Work the door out once for this request: the web and API entry points call this on the
    membership they built for the request, so every list, count and check in it reuses one door.
    (Not cached otherwise — a membership object kept across a recusal must see it at once.)"""
    if by is not None:
        setattr(by, DOOR_ATTR, door_build(by))


def door_for(by: Membership | None) -> Door:
    cached = getattr(by, DOOR_ATTR, None) if by is not None else None
    return cached if cached is not None else door_build(by)


def cases_for(by: Membership | None, *, one: bool = False) -> QuerySet[Case]:
    """The cases ``by`` may read. ``one``: the query will fetch a case (or a few) by id — the
    door's tests then run inside that statement instead of reading the unit subtree and the
    recusals first (see ``Door.apply_one``)."""
    door = door_for(by)
    return door.apply_one(Case.objects.all()) if one else door.all_cases()


# The instant a one-case read compiled once stands for (``read_case_through``): no case has a
# deadline so early, and the request's own time takes its place among the parameters.
NOW_PROBE = datetime(1901, 1, 1, 0, 0, 7, tzinfo=UTC)

Shaped = Callable[[QuerySet[Case], "Door"], QuerySet[Case]]


def read_case_through(by: Membership | None, pk: int, names: tuple[str, ...], shaped: Shaped,
                      *, now: datetime | None = None) -> Case:
    """The door's read of case ``pk``, as ``shaped`` gives it its joins and annotations (a
    function of the door's queryset and the door, defined once at module level; ``NOW_PROBE``
    stands for ``now``): the case, its places and its rows ``names``, in one statement
    (``cases.related.read_case_compiled``). ``Case.DoesNotExist`` outside the door.

    The door's statement is compiled once per door key (``Door.key``: the same text and
    parameters for every request with that key, as the bell's count, ``notify.selectors``) and
    ``shaped``, not for every request: building and compiling it through the ORM cost 1.5 ms
    of the API's detail at 1M cases (lead40); here only the case's id and the time are bound."""
    alias = router.db_for_read(Case)
    head, params = _bound(by, pk, shaped, now, alias)
    return read_case_compiled(head, params, pk, names, using=alias)


def case_through(by: Membership | None, pk: int, shaped: Shaped, *,
                 now: datetime | None = None) -> Case:
    """The door's read of case ``pk`` alone, as ``read_case_through`` compiles it; a ``shaped``
    that locks the row (``select_for_update``) reads the database written to, inside the
    caller's transaction."""
    alias = router.db_for_read(Case)
    if _locks(shaped):
        alias = router.db_for_write(Case)
        if not connections[alias].in_atomic_block:
            raise TransactionManagementError("a locked read of a case is made in a transaction")
    head, params = _bound(by, pk, shaped, now, alias)
    found = read_shape(head, params, using=alias)
    if not found:
        raise Case.DoesNotExist
    return found[0]


def _bound(by: Membership | None, pk: int, shaped: Shaped, now: datetime | None, alias: str
           ) -> tuple[Shape, list]:
    """``by``'s door's read of ``pk`` as ``shaped`` gives it, compiled for ``alias`` once per
    door key, and its parameters for this read; ``Case.DoesNotExist`` where it admits none."""
    ops = connections[alias].ops
    head = _door_head(alias, door_for(by).key, shaped)
    low, high = ops.integer_field_range(Case._meta.pk.get_internal_type())
    if head is None or not low <= int(pk) <= high:  # an id out of range admits nothing
        raise Case.DoesNotExist
    return head, [int(pk) if p == PROBE else p for p in at_instant(head.params, alias, now)]


def at_instant(params, alias: str, now: datetime | None) -> list:
    """The parameters of a statement compiled at ``NOW_PROBE``, with ``now`` (as ``alias``
    takes a time) in the probe's place; a statement that asks the time and is given none is
    refused."""
    ops = connections[alias].ops
    probe = ops.adapt_datetimefield_value(NOW_PROBE)
    if now is None:
        if probe in params:
            raise ValueError("a statement that asks the time is given the request's")
        return list(params)
    when = ops.adapt_datetimefield_value(now)
    return [when if p == probe else p for p in params]


@lru_cache(maxsize=64)
def _locks(shaped: Shaped) -> bool:
    return bool(shaped(Case.objects.all(), NO_CASE).query.select_for_update)


@lru_cache(maxsize=1024)
def _door_head(alias: str, key: tuple, shaped: Shaped) -> Shape | None:
    """The door ``key``'s read of the case ``PROBE``, as ``shaped`` shapes it, compiled for
    database ``alias``; None where the door admits no case."""
    door = Door.of_key(key)
    qs = shaped(door.apply_one(Case.objects.all()), door).filter(pk=PROBE).order_by()
    try:
        head = shape(qs.using(alias), alias, annotated=True)
    except EmptyResultSet:
        return None
    if head.params.count(PROBE) != 1:
        raise ValueError("a one-case read names the case's id once")
    return head


def cases_counted(by: Membership | None) -> QuerySet[Case] | None:
    """The cases ``by`` may read, in the form fastest to count (``Door.counted_cases``), or
    None where the list's own form is: a paginator's ``counted``."""
    return door_for(by).counted_cases()


def visible_case(by: Membership | None, column: str = "case_id") -> IsNull:
    """Whether the row's case (``column``) is one ``by`` may see: the door for one case, asked
    per row as a subquery of one row. For the tables beside the cases (notices, oversight,
    registers, practices), whose rows of a unit are hundreds to thousands: ``case IN (the
    door's cases)`` read every case the reader may see first (a county's 100,000 at 1M), and
    so did an EXISTS under OR, which PostgreSQL hashes the same way. Unordered: the one case's
    row needs no sort (the cases' default order put a Sort under each probe on PostgreSQL, 9 %
    of an inbox count to 1,000 at 1M cases)."""
    seen = Subquery(cases_for(by, one=True).filter(pk=OuterRef(column)).order_by()
                    .values("pk")[:1])
    return IsNull(seen, False)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A history entry as the case page shows it (``web.present.history_html``): the event's
    own columns, its actor and unit as their names. Read as plain rows (``history_of``): a long
    history read as events, each with its user's and unit's whole rows, built three model
    instances an entry (152 entries: 3 ms of the case page's 37 at 1M, lead35)."""

    at: datetime
    type: str
    actor_role: str
    from_state: str
    to_state: str
    payload: dict
    profile_code: str
    profile_version: int
    actor_unit_id: int | None
    actor: str
    actor_unit: str


HISTORY_COLUMNS = ("at", "type", "actor_role", "from_state", "to_state", "payload",
                   "profile_code", "profile_version", "actor_unit_id", "actor__full_name",
                   "actor__username", "actor_unit__name")


# One statement compiled once a database (``db.fixed``): only the case's id changes.
_HISTORY = FixedRead(lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("seq")
                     .values_list(*HISTORY_COLUMNS))


def history_of(case: Case) -> list[HistoryEntry]:
    """The case's history in order, as ``HistoryEntry`` rows (the actor as ``User.__str__``
    and the unit as ``Unit.__str__`` name them)."""
    rows = _HISTORY.of(case)
    return [
        HistoryEntry(at, type_, role, from_state, to_state, payload, code, version, unit_id,
                     full_name or username or "", unit or "")
        for (at, type_, role, from_state, to_state, payload, code, version, unit_id, full_name,
             username, unit) in rows
    ]


# Read by the ids of a page's rows, compiled once per number of ids (``db.fixed.ManyRead``).
_MAIN_NAMES = ManyRead(lambda ids: CasePetitioner.objects.filter(
    Written(F("role"), PETITIONING_ROLES), case_id__in=ids).order_by("pk").values_list(
    "case_id", "petitioner__name"))
_LEAD_UNITS = ManyRead(lambda ids: Assignment.objects.filter(
    case_id__in=ids, role=AssignmentRole.LEAD).exclude(
    status=AssignmentStatus.TRANSFERRED).order_by("assigned_at", "pk").values_list(
    "case_id", "unit__name"))


def main_names(ids: list[int]) -> dict[int, list[str]]:
    """Each case's main petitioners' names (decrypted, unmasked: the caller masks them), in
    link order, for many cases in one statement of plain values: what a list row shows of
    its people. Read as links and people through ``prefetch_related``, the same names cost a
    page of fifty some hundred model instances and a queryset per row."""
    names: dict[int, list[str]] = {}
    for case_id, name in _MAIN_NAMES(ids):
        names.setdefault(case_id, []).append(name)
    return names


def lead_unit_names(ids: list[int]) -> dict[int, list[str]]:
    """Each case's units leading its handling (a transferred lead left out), by name, in the
    order they were assigned: a ledger's 承办单位, for many cases in one statement."""
    units: dict[int, list[str]] = {}
    for case_id, unit in _LEAD_UNITS(ids):
        units.setdefault(case_id, []).append(unit)
    return units


def case_for(by: Membership | None, pk: int, *, rows: tuple[str, ...] = ()) -> Case:
    """One case through the door; raises Case.DoesNotExist (a 404) outside the user's scope.
    The case comes back knowing, for ``by``, that it is not on its respondent side (the door
    excludes those) and whether the user has declared any recusal (``xf_recused``): the action
    checks of the same request need no further query for either. ``rows``: relations of the
    case (``cases.related.READS``) read in the same statement, for a page that shows them."""
    if rows:
        return read_for(read_case_through(by, pk, rows, _as_a_page_reads), by)
    qs = cases_for(by, one=True).select_related("jurisdiction", "profile")
    if by is not None:
        qs = qs.annotate(xf_recused=probes.any_recusal(by.user_id))
    return read_for(with_places(qs.get(pk=pk)), by)


def _as_a_page_reads(qs: QuerySet[Case], door: Door) -> QuerySet[Case]:
    return qs.select_related("jurisdiction", "profile").annotate(
        xf_recused=probes.any_recusal(door.user_id))


_VILLAGE = FixedRead(lambda pk: Unit.objects.filter(pk=pk).select_related("parent"))


def with_places(case: Case) -> Case:
    """Set the case's township and village from one read of both units.

    Not joined into the statement that reads the case through the door: with the door's probes
    that statement joins eight relations, and at 1M cases PostgreSQL took 6.6 ms to plan it (for
    0.2 ms of execution) against 1.1 ms without the two units — the separate read costs 0.4 ms.
    A case's village lies under its township (registration refuses anything else): the village
    is read with its parent by a fixed read (0.25 → 0.07 ms at 1M); a case whose village is not
    under its township, or that has no village, reads its units by id as before."""
    wanted = {case.township_id, case.village_id} - {None}
    if not wanted:
        return case
    if case.village_id is not None:
        # A village lies under its township: both in one statement compiled once (``db.fixed``)
        found = _VILLAGE(case.village_id)
        if found and case.township_id in (None, found[0].parent_id):
            village = found[0]
            Case._meta.get_field("village").set_cached_value(case, village)
            if case.township_id is not None:
                Case._meta.get_field("township").set_cached_value(case, village.parent)
            return case
    units = Unit.objects.order_by().in_bulk(wanted)
    for name in ("township", "village"):
        key = getattr(case, f"{name}_id")
        if key is not None and key in units:
            Case._meta.get_field(name).set_cached_value(case, units[key])
    return case


READ_FOR = "_xf_read_for"


def read_for(case: Case, by: Membership | None) -> Case:
    """Mark ``case`` as read through ``by``'s door: ``by`` is not on its respondent side."""
    if by is not None:
        case.__dict__[READ_FOR] = by.pk
    return case


def case_for_query_code(number: str, code: str) -> Case | None:
    """The petitioner's own door (no sign-in): the case number and the query code printed on the
    acceptance notice, compared in constant time. None for any mismatch."""
    from .numbering import cases_numbered

    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    # The number as typed: any bracket spelling, with or without 号, the serial alone this year.
    found = None
    for case in cases_numbered(number, scope=Case.objects.exclude(query_code="")):
        if constant_time_compare(case.query_code.upper(), code):
            found = case
    return found
