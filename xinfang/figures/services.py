"""The supervision page's figures from kept sums, exact for whoever reads them.

A refresh (``figures_refresh``: the periodic job, ``manage.py refresh_figures``) works out for
each case changed since the last one what it counts for (``CaseFigure``: the rates' own
conditions, ``xinfang.cases.rates``) and moves the sums of its buckets (``FigureSum``, per
month; ``FigureTotal``, per year and over every month) by the difference. A first refresh does
every case.

A read (``figures_over``) of a scope (a queryset through the permission door) and a period is

    the sums of the scope's jurisdictions over the period's whole months
  − what the kept rows of the *unsure* cases counted in them
  + the unsure cases counted afresh, through the door,

where the unsure cases are those with a history entry newer than the marks allow (every change
to a case appends one: ``xinfang.cases.statcache`` relies on the same; the sweep's entries,
``UNCOUNTED``, come with no change a figure counts) and those the door keeps from this reader
(respondent side, recusals). For every other case the kept row is what the case
counts for now and the reader sees it, so the result is the straightforward count. The months the
period cuts through are counted straight from the cases (one month of one county: a few
thousand, read by the ``received_at`` index).

A history entry is numbered when written and seen when committed; a transaction still open
while a refresh reads may commit an entry older than the refresh's mark. So both a refresh and a
read take as settled only the entries up to the mark of a refresh at least ``LAG`` older than the
newest one: a write transaction shorter than ``LAG`` minus the refresh interval is never missed
(the schedule refreshes every minute; ``LAG`` is three)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connections, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.dbstats import analyze_after
from xinfang.cases.models import Case, CaseEvent, Demand
from xinfang.cases.rates import _aggregates, _joined, lead_unit
from xinfang.db import locks
from xinfang.db.counts import row_count

from .models import DIMS, EVERY_YEAR, FIGURES, CaseFigure, FigureMark, FigureSum, FigureTotal

# How long a write transaction may stay open and still be seen (see the module's docstring): the
# schedule refreshes every minute (``XINFANG_FIGURES_EVERY``), and reads recount the cases
# changed in the last LAG or two — at a busy county, a few hundred.
LAG = timedelta(seconds=int(os.environ.get("XINFANG_FIGURES_LAG", 180)))
# History entries that change nothing a case counts for: the sweep's warnings (raised, or issued
# with a notice) and its backlog lines — with the alerts, notices, follow-up clocks, owners and
# register lines they come with, none of which a figure counts. A case changed only by these
# since the mark is not unsure: a sweep's first pass would otherwise make most open cases of a
# county "recent" for ``LAG`` (16,500 recounted on every read at a million cases).
UNCOUNTED = ("warning_raised", "warning_issued", "backlog_entered")
BATCH = 10000  # cases counted per statement (each reads the letters and deliveries once)
NO_KEY = ""  # the bucket of cases with no lead unit, no township or an empty category


def changed_since(mark: int):
    """The cases of the history entries after ``mark`` that may change a figure, repeated as often
    as they have entries (the caller makes the set). No DISTINCT: with statistics (``xinfang db
    optimize``) SQLite would answer it by scanning the whole case_id index in order, not by the
    primary key's range."""
    return (CaseEvent.objects.filter(id__gt=mark).exclude(type__in=UNCOUNTED).order_by()
            .values_list("case_id", flat=True))


def month_of(at: datetime) -> date:
    return timezone.localtime(at).date().replace(day=1)


def next_month(m: date) -> date:
    return date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def _month_start(m: date) -> datetime:
    return datetime(m.year, m.month, 1, tzinfo=timezone.get_current_timezone())


# -- what one case counts for ------------------------------------------------------------------


def _fresh(cases: QuerySet[Case], among=None) -> list[dict]:
    """Each case's row as the rates count it now: one grouped query, one for the demands'
    categories and one for the profile versions that verify report-backs. ``among``: the same
    cases as ids or a subquery (see ``rates._wanted``)."""
    from xinfang.oversight.models import CaseReview
    from xinfang.oversight.selectors import newest_verified, versions_with

    first = CaseReview.objects.filter(case=OuterRef("pk"), passed=True, round=1)
    failed = row_count(CaseReview.objects.filter(case=OuterRef("pk"), passed=False))
    # ``owed`` as ``oversight.selectors.verifications_owed`` has it: reported back (the case's
    # ``reported_back_at``, set with the report-back's event), no verification of the newest
    # report-back, under a profile version that verifies.
    verified = newest_verified()
    if among is not None:
        verified = verified.filter(probes.among_or_in("case_id", among))
    qs = (_joined(cases.order_by())
          .annotate(xf_lead=lead_unit(), xf_first=Exists(first), xf_failed=failed,
                    xf_verified=Exists(verified))
          .values("pk", "jurisdiction_id", "received_at", "township_id", "state", "profile_id",
                  "reported_back_at", "xf_lead", "xf_first", "xf_failed", "xf_verified")
          .annotate(**_aggregates(among)))
    rows = {}
    # The probes' estimate would make PostgreSQL JIT-compile this statement (6.7 s of
    # compilation for 0.2 s of work at 200,000 cases): the product's connections run with JIT
    # off (settings.base.POSTGRES_OPTIONS).
    found = list(qs)
    verifying = set(versions_with("verification")) if found else set()
    for r in found:
        row = {name: r[name] or 0 for name in FIGURES[:16]}
        row.update(open=int(r["state"] in c.OPEN_STATES), first_time=int(r["xf_first"]),
                   failed_rounds=r["xf_failed"] or 0,
                   owed=int(r["profile_id"] in verifying and r["reported_back_at"] is not None
                            and not r["xf_verified"]))
        rows[r["pk"]] = {"case_id": r["pk"], "jurisdiction_id": r["jurisdiction_id"],
                         "month": month_of(r["received_at"]), "lead_unit_id": r["xf_lead"],
                         "township_id": r["township_id"], "categories": set(), **row}
    # ``order_by()``: the rows fill sets, in no order
    for case_id, category in Demand.objects.filter(
            probes.among("case_id", tuple(rows))).order_by().values_list("case_id", "category"):
        rows[case_id]["categories"].add(category or NO_KEY)
    return list(rows.values())


def _kept(case_ids: Iterable[int], within: Q | None = None) -> list[dict]:
    rows = []
    kept = CaseFigure.objects.filter(probes.among("case_id", tuple(case_ids)))
    if within is not None:
        kept = kept.filter(within)
    for r in kept.values():
        r["categories"] = set(r["categories"].split("\n")) if r["categories"] else set()
        rows.append(r)
    return rows


def _buckets(row: dict) -> Iterable[tuple[str, str]]:
    """The (split, key) buckets a case's row counts in: its lead unit, its township, each of its
    categories (a case with demands in two categories counts in both, as the chart does)."""
    yield "unit", str(row["lead_unit_id"] or NO_KEY)
    yield "township", str(row["township_id"] or NO_KEY)
    for category in sorted(row["categories"]):
        yield "category", category


Key = tuple[int, date, str, str]


def _add(into: dict[Key, list[int]], row: dict, sign: int, *, dims=DIMS) -> None:
    for dim, key in _buckets(row):
        if dim in dims:
            sums = into.setdefault((row["jurisdiction_id"], row["month"], dim, key),
                                   [0] * len(FIGURES))
            for i, name in enumerate(FIGURES):
                sums[i] += sign * row[name]


# -- the refresh -------------------------------------------------------------------------------


def settled_mark(marks: list[tuple[datetime, int]]) -> tuple[datetime, int] | None:
    """The mark whose history is taken as settled, given the refreshes' marks (newest first):
    the newest mark at least ``LAG`` older than the newest one, else the oldest. None: never
    refreshed."""
    if not marks:
        return None
    newest = marks[0][0]
    for at, upto in marks:
        if at <= newest - LAG:
            return at, upto
    return marks[-1]


def settled_upto(marks: list[tuple[datetime, int]]) -> int | None:
    """The newest history entry taken as settled (``settled_mark``)."""
    mark = settled_mark(marks)
    return None if mark is None else mark[1]


def _marks() -> list[tuple[datetime, int]]:
    return list(FigureMark.objects.order_by("-at", "-pk").values_list("at", "upto"))


def _lock() -> None:
    """One refresh at a time: the sums move by differences, so two refreshes must not read the
    same kept rows. PostgreSQL: a transaction-level advisory lock; SQLite takes its one write
    lock at the first write, which the caller's insert of its mark makes first."""
    locks.held(locks.FIGURES_REFRESH)


def figures_refresh(*, now: datetime | None = None) -> int:
    """Bring the kept rows and sums up to date; returns how many cases were counted again."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock()
        marks = _marks()
        newest = CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0
        FigureMark.objects.create(at=now, upto=newest)
        since = settled_upto(marks)
        if since is None:
            ids = Case.objects.order_by("pk").values_list("pk", flat=True)
        else:
            ids = changed_since(since)
        ids = sorted(set(ids))
        delta: dict[Key, list[int]] = {}
        for i in range(0, len(ids), BATCH):
            _recount(ids[i:i + BATCH], delta)
        _move_sums(delta)
        # The marks still needed: the newest, and the one a read takes as settled.
        keep = settled_mark(_marks())
        FigureMark.objects.filter(at__lt=keep[0]).delete()
    # The first refresh writes every row of both tables: until their statistics are read
    # again, PostgreSQL takes a county's sums for a share of the province's and reads all of
    # them (75 ms at 1M, against 2 ms off the index).
    analyze_after([CaseFigure, FigureSum, FigureTotal], len(ids))
    return len(ids)


def _recount(case_ids: list[int], delta: dict[Key, list[int]]) -> None:
    """Count these cases again: their kept rows replaced, the difference added to ``delta``."""
    old, new = _kept(case_ids), _fresh(Case.objects.filter(pk__in=case_ids), case_ids)
    for row in old:
        _add(delta, row, -1)
    for row in new:
        _add(delta, row, +1)
    CaseFigure.objects.filter(case_id__in=case_ids).delete()
    CaseFigure.objects.bulk_create([
        CaseFigure(**{**row, "categories": "\n".join(sorted(row["categories"]))})
        for row in new], batch_size=BATCH)


def _move_sums(delta: dict[Key, list[int]]) -> None:
    """Add ``delta`` to the sums per month and to their totals per year and over every month."""
    totals: dict[tuple, list[int]] = {}
    for (j, m, dim, key), d in delta.items():
        for year in (EVERY_YEAR, m.year):
            t = totals.setdefault((j, year, dim, key), [0] * len(FIGURES))
            for i, n in enumerate(d):
                t[i] += n
    _move(FigureSum, ("jurisdiction_id", "month", "dim", "key"), delta)
    _move(FigureTotal, ("jurisdiction_id", "year", "dim", "key"), totals)


def _move(model, fields: tuple[str, ...], delta: dict[tuple, list[int]]) -> None:
    """Add ``delta`` (by the values of ``fields``) to ``model``'s rows: the buckets it moves are
    read (a superset, by the fields before the split's), deleted and written back with their new
    totals — one DELETE and one INSERT. A bucket left at zero is not written back."""
    delta = {k: v for k, v in delta.items() if any(v)}
    if not delta:
        return
    near = model.objects.filter(**{f"{name}__in": {k[i] for k in delta}
                                   for i, name in enumerate(fields[:-2])})
    have = {}
    for s in near:
        k = tuple(getattr(s, name) for name in fields)
        if k in delta:
            have[k] = s
    gone = [s.pk for s in have.values()]
    rows = []
    for k, d in delta.items():
        s = have.get(k) or model(**dict(zip(fields, k, strict=True)))
        for name, n in zip(FIGURES, d, strict=True):
            setattr(s, name, getattr(s, name) + n)
        s.pk = None
        if any(getattr(s, name) for name in FIGURES):
            rows.append(s)
    model.objects.filter(pk__in=gone).delete()
    model.objects.bulk_create(rows, batch_size=500)


# -- the read ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a scope's cases of a period count for: ``total`` and per split key."""

    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    by: dict[str, dict[str, dict[str, int]]] = field(
        default_factory=lambda: {dim: {} for dim in DIMS})
    # The splits kept per key (``by`` holds these only); the unit split's rows make ``total``
    # whether or not it is one of them.
    keys: tuple[str, ...] = DIMS

    def __post_init__(self) -> None:
        self.by = {dim: found for dim, found in self.by.items() if dim in self.keys}

    def add(self, dim: str, key: str, sums) -> None:
        """One bucket's figures (a correction, a count made straight)."""
        self.add_read([(dim, key, *sums)])

    def add_read(self, rows: list[tuple]) -> None:
        """Rows of (dim, key, then the figures) — a read of the sums (``sums_read``), each key
        once a read — the unit split's rows added to ``total`` by columns: row by row, a
        province's 5,565 rows cost 15 ms a read (lead28)."""
        units = []
        for row in rows:
            dim, key, sums = row[0], row[1], row[2:]
            if dim == "unit":
                units.append(sums)
            if dim not in self.by:  # a split the reader does not show
                continue
            got = self.by[dim].get(key)
            if got is None:  # a key's first row: one dict built
                self.by[dim][key] = dict(zip(FIGURES, sums, strict=True))
            else:
                for name, n in zip(FIGURES, sums, strict=True):
                    got[name] += n
        if units:
            total = self.total
            for name, column in zip(FIGURES, zip(*units, strict=True), strict=True):
                total[name] += sum(column)


Edge = tuple[datetime | None, datetime | None]


def _whole_months(start: datetime | None, end: datetime | None
                  ) -> tuple[date | None, date | None, list[Edge]]:
    """The period as its whole months ``[first, last)`` (either side open when None) and the
    cut edges to count straight from the cases. No whole month: ``first == last`` and the one
    edge is the whole period."""
    first = last = None
    if start is not None:
        first = month_of(start)
        if _month_start(first) != start:
            first = next_month(first)
    if end is not None:
        last = month_of(end)  # a month cut by ``end`` is an edge; one starting at it is out
    if first is not None and last is not None and first >= last:
        return first, first, [(start, end)]
    edges: list[Edge] = []
    if first is not None and _month_start(first) != start:
        edges.append((start, _month_start(first)))
    if last is not None and _month_start(last) != end:
        edges.append((_month_start(last), end))
    return first, last, edges


def _none_whole(first: date | None, last: date | None) -> bool:
    return first is not None and last is not None and first >= last


def figures_over(scope: QuerySet[Case], within: Q | None, *, start: datetime | None = None,
                 end: datetime | None = None, door_out: set[int] | None = None,
                 direct: bool = False, keys: tuple[str, ...] = DIMS) -> Figures:
    """The figures of the cases in ``scope`` (already through the door) received in
    ``[start, end)``. ``within``: the jurisdictions ``scope`` is drawn from, as a filter of a
    ``jurisdiction_id`` column (``Door.by_jurisdiction``); ``door_out``: the case ids among
    them the door keeps from the reader (None: none). Never refreshed, or ``direct``: counted
    straight from the cases. ``keys``: the splits read per key (``Figures.keys``); the total
    is always read."""
    out = Figures(keys=keys)
    settled = None if direct else settled_upto(_marks())
    if settled is None:
        _count_into(out, scope, start, end)
        return out
    first, last, edges = _whole_months(start, end)
    if not _none_whole(first, last):
        for part in sums_read(within, first, last, keys=keys):
            out.add_read(_rows(part))
    wanted = _unsure(settled, door_out)
    if wanted:
        minus: dict[Key, list[int]] = {}
        for row in _kept(wanted, within):
            if _in_months(row["month"], first, last):
                _add(minus, row, -1)
        for (_j, _m, dim, key), d in minus.items():
            out.add(dim, key, d)
        whole = scope.filter(probes.among("id", tuple(wanted)))
        if first is not None:
            whole = whole.filter(received_at__gte=_month_start(first))
        if last is not None:
            whole = whole.filter(received_at__lt=_month_start(last))
        if not _none_whole(first, last):
            _count_into(out, whole, None, None, among=wanted)
    for edge_start, edge_end in edges:
        _count_into(out, scope, edge_start, edge_end)
    return out


def _unsure(settled: int, door_out: set[int] | None) -> list[int]:
    """The cases whose kept rows a read cannot trust: changed since the settled mark, or kept
    from this reader (``door_out``)."""
    return sorted(set(changed_since(settled)) | (door_out or set()))


def sums_read(within: Q, first: date | None, last: date | None, *,
              keys: tuple[str, ...] = DIMS) -> list[QuerySet]:
    """The sums of the jurisdictions ``within`` over the months ``[first, last)``, per split
    key, as the statements whose rows add up to them (``_spans``): the totals of the whole
    years (or of every month), and the sums of the months beside them. Each off its unique
    index, the reader's jurisdictions' rows only (``figures`` migrations 0003 and 0004 keep
    PostgreSQL's estimate of them right).

    ``keys``: the splits read per key. The unit split, when not among them, is read summed
    whole, its key empty (one row: the total) — a province's 3,151 units were 57% of the rows
    of the supervision page's read of every case (200k), read for its total."""
    years, months = _spans(first, last)
    parts = []
    if years is not None:
        lo, hi = years
        totals = FigureTotal.objects.filter(within)
        if lo is None and hi is None:
            totals = totals.filter(year=EVERY_YEAR)
        else:
            totals = totals.filter(year__gte=lo if lo is not None else EVERY_YEAR + 1)
            if hi is not None:
                totals = totals.filter(year__lt=hi)
        parts.append(totals)
    if months:
        among = Q()
        for lo, hi in months:
            among |= Q(**{k: v for k, v in (("month__gte", lo), ("month__lt", hi))
                          if v is not None})
        parts.append(FigureSum.objects.filter(among, within))
    sums = {f"s_{n}": Coalesce(Sum(n), 0) for n in FIGURES}
    out = []
    for part in parts:
        if keys:
            keyed = part if tuple(keys) == DIMS else part.filter(dim__in=keys)
            out.append(keyed.values_list("dim", "key").annotate(**sums))
        if "unit" not in keys:  # its key a constant: one row, grouped by the split alone
            out.append(part.filter(dim="unit").values_list("dim")
                       .annotate(whole=Value(""), **sums))
    return out


def _rows(qs: QuerySet) -> list[tuple]:
    """The rows of ``qs`` as the database returns them. Django converts each value of an integer
    expression with a function call; a province's sums are 11,000 rows of 22 columns, and the
    calls were 40% of reading them (PostgreSQL, 1M cases). The sums are integers already."""
    sql, params = qs.query.get_compiler(qs.db).as_sql()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


Span = tuple[date | None, date | None]


def _spans(first: date | None, last: date | None
           ) -> tuple[tuple[int | None, int | None] | None, list[Span]]:
    """The months ``[first, last)`` (a side None: open) as the whole years among them — a
    range ``[lo, hi)`` of years, a side None where the months are open, or None: no whole
    year — and the ranges of months left beside those years."""
    lo = None if first is None else first.year + (first.month != 1)
    hi = None if last is None else last.year  # year Y is whole when Y + 1 starts by ``last``
    if lo is not None and hi is not None and lo >= hi:
        return None, [(first, last)]
    months = []
    if first is not None and first < date(lo, 1, 1):
        months.append((first, date(lo, 1, 1)))
    if last is not None and date(hi, 1, 1) < last:
        months.append((date(hi, 1, 1), last))
    return (lo, hi), months


def _in_months(m: date, first: date | None, last: date | None) -> bool:
    return (first is None or m >= first) and (last is None or m < last) and not _none_whole(
        first, last)


def _count_into(out: Figures, scope: QuerySet[Case], start: datetime | None,
                end: datetime | None, among=None) -> None:
    cases = scope
    if start is not None:
        cases = cases.filter(received_at__gte=start)
    if end is not None:
        cases = cases.filter(received_at__lt=end)
    plus: dict[Key, list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    if among is None and (start is not None or end is not None):
        among = cases.values("pk")  # a month's edge: its letters and deliveries only
    for row in _fresh(cases, among):
        _add(plus, row, +1)
    for (_j, _m, dim, key), d in plus.items():
        out.add(dim, key, d)


def figures_through(door, scope: QuerySet[Case], *, start: datetime | None = None,
                    end: datetime | None = None, keys: tuple[str, ...] = DIMS) -> Figures:
    """The figures of the cases ``scope`` (``door``'s cases) received in ``[start, end)``: for
    an office door, its jurisdictions' kept sums corrected (``figures_over``); else counted
    straight. The figures of a period's report, as the supervision page reads its own."""
    out = door.kept_out
    within = door.by_jurisdiction() if out is not None else None
    return figures_over(scope, within, start=start, end=end, door_out=out, direct=out is None,
                        keys=keys)


def received_by_month(door, scope: QuerySet[Case], first: date, last: date
                      ) -> dict[date, int] | None:
    """The cases of ``scope`` (``door``'s cases) received in each month of ``[first, last)``,
    from the kept sums of an office door's jurisdictions (every case counts once in the lead
    unit split), corrected as ``figures_over`` corrects them: the rows kept of the cases changed
    since the settled mark and of those the door keeps from the reader taken out, those cases
    counted again through the door. None: not an office door, or never refreshed — the caller
    counts straight."""
    kept_out = door.kept_out
    settled = None if kept_out is None else settled_upto(_marks())
    if settled is None:
        return None
    within = door.by_jurisdiction()
    got: Counter[date] = Counter(dict(
        FigureSum.objects.filter(within, dim="unit", month__gte=first, month__lt=last)
        .order_by().values("month").annotate(n=Sum("received")).values_list("month", "n")))
    unsure = _unsure(settled, kept_out)
    if unsure:
        for row in _kept(unsure, within):
            if first <= row["month"] < last:
                got[row["month"]] -= row["received"]
        got.update(month_of(at) for at in scope.filter(
            probes.among("id", tuple(unsure)), received_at__gte=_month_start(first),
            received_at__lt=_month_start(last)).values_list("received_at", flat=True))
    return dict(got)


def without_kept_out(lines: QuerySet, scope: QuerySet[Case], kept_out: set[int]) -> QuerySet:
    """The ``lines`` (rows of an office reader's jurisdictions keeping their case: backlog
    lines, warning notices) less those whose case the door keeps from the reader: the cases of
    ``kept_out`` (``Door.kept_out``, a superset) among the lines, tested through the door
    (``scope``) by id. The door asked of every line instead tested each of a county's 4,800
    backlog lines (35 ms of 230 at 1M cases)."""
    if not kept_out:
        return lines
    suspects = set(lines.filter(probes.among("case_id", tuple(kept_out)))
                   .values_list("case_id", flat=True))
    inside = set(scope.filter(pk__in=suspects).values_list("pk", flat=True)) if suspects else set()
    return lines.exclude(case_id__in=suspects - inside)


def periodic() -> dict:
    """The schedule's job (``settings.XINFANG_PERIODIC``)."""
    return {"counted": figures_refresh()}
