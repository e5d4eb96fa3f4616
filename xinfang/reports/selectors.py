"""The reads behind the periodic reports. Every one starts from ``cases_for(by)`` — the permission
door — so a township's report counts only the township's cases, and every count is one grouped
query, whatever the number of cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.models import Case, Demand
from xinfang.cases.rates import in_period
from xinfang.cases.selectors import cases_for, door_for
from xinfang.db.written import Written
from xinfang.figures.services import Figures, figures_through, received_by_month
from xinfang.org.models import Membership, names_told_apart

from .periods import Period

NO_PLACE = "未填属地"
REPEAT = Q(repeat_count__gt=0) | Q(repeat_of__isnull=False)
FLAGS = {"repeat": ("重复访", REPEAT), "level_skipping": ("越级访", Q(level_skipping=True)),
         "collective": ("集体访", Q(collective=True))}
ANY_FLAG = FLAGS["repeat"][1] | FLAGS["level_skipping"][1] | FLAGS["collective"][1]


def period_cases(by: Membership, period: Period) -> QuerySet[Case]:
    """The cases ``by`` may see, received in ``period``."""
    return in_period(cases_for(by), *period.bounds())


def period_figures(by: Membership, period: Period) -> Figures:
    """The figures of ``period_cases(by, period)`` from the kept sums (``figures_through``), as
    the supervision page reads them. Counted straight, a province's quarter was 270–290 ms a
    statement at 1M (each case's letters and deliveries probed: 63,000 cases), twice in its
    quarterly report, and its categories 191 ms more."""
    start, end = period.bounds()
    return figures_through(door_for(by), cases_for(by), start=start, end=end)


def unit_counts(figures: Figures) -> dict[int | None, dict[str, int]]:
    """``counts_by_unit`` of the figures' cases: per lead handling unit, ``None`` for none."""
    return {int(k) if k else None: n for k, n in figures.by["unit"].items() if n["received"]}


def category_counts(figures: Figures) -> list[tuple[str, int]]:
    """``by_category`` of the figures' cases."""
    rows = [(k or "未分类", n["received"]) for k, n in figures.by["category"].items()
            if n["received"]]
    return sorted(rows, key=lambda kn: (-kn[1], kn[0]))


def township_counts(figures: Figures, *, then: Mapping[int, str] | None = None
                    ) -> list[tuple[str, int]]:
    """``by_area(…, "township")`` of the figures' cases, as (name, cases); ``then``: the
    period's names (``names_told_apart``)."""
    found = {int(k) if k else None: n["received"]
             for k, n in figures.by["township"].items() if n["received"]}
    names = names_told_apart(found, then=then)
    rows = [(names.get(k, NO_PLACE) if k else NO_PLACE, n) for k, n in found.items()]
    return sorted(rows, key=lambda kn: (-kn[1], kn[0]))


def flag_counts(cases: QuerySet[Case]) -> dict[str, int]:
    found = cases.order_by().aggregate(
        total=Count("pk"), any=Count("pk", filter=ANY_FLAG),
        **{k: Count("pk", filter=q) for k, (_l, q) in FLAGS.items()})
    return {k: v or 0 for k, v in found.items()}


def by_area(cases: QuerySet[Case], field: str, *, extra: dict | None = None,
            then: Mapping[int, str] | None = None) -> list[tuple[str, dict[str, int]]]:
    """Counts per township or village (``field``), most cases first; ``extra`` adds filtered
    counts beside the total; ``then``: the period's names (``names_told_apart``)."""
    rows = list(cases.order_by().values(field).annotate(
        n=Count("pk"), **{k: Count("pk", filter=q) for k, q in (extra or {}).items()}))
    names = names_told_apart((r[field] for r in rows), then=then)
    out = [(names.get(r[field], NO_PLACE) if r[field] else NO_PLACE,
            {k: v for k, v in r.items() if k != field}) for r in rows]
    return sorted(out, key=lambda x: (-x[1]["n"], x[0]))


def by_category(cases: QuerySet[Case]) -> list[tuple[str, int]]:
    """Cases per demand category (a case with demands in two categories counts in both)."""
    rows = (Demand.objects.filter(case__in=cases.values("pk")).values("category")
            .annotate(n=Count("case", distinct=True)).order_by("-n", "category"))
    return [(r["category"] or "未分类", r["n"]) for r in rows]


def category_by_township(cases: QuerySet[Case], categories: list[str] | None = None, *,
                         then: Mapping[int, str] | None = None
                         ) -> dict[str, list[tuple[str, int]]]:
    """For each category (or each of ``categories``, as ``by_category`` labels them), the
    townships it arises in (most first): where a problem gathers. A quarterly analysis asks for
    its three biggest categories only: the province's quarter of every category was 105,000
    demands joined to their cases (460 ms at 1M)."""
    demands = Demand.objects.filter(case__in=cases.values("pk"))
    if categories is not None:
        wanted = set(categories)
        if "未分类" in wanted:
            wanted.add("")
        demands = demands.filter(category__in=sorted(wanted))
    rows = (demands.values("category", "case__township")
            .annotate(n=Count("case", distinct=True)))
    names = names_told_apart((r["case__township"] for r in rows), then=then)
    out: dict[str, list[tuple[str, int]]] = {}
    for r in rows:
        place = names.get(r["case__township"], NO_PLACE) if r["case__township"] else NO_PLACE
        out.setdefault(r["category"] or "未分类", []).append((place, r["n"]))
    for places in out.values():
        places.sort(key=lambda x: (-x[1], x[0]))
    return out


def monthly_trend(by: Membership, period: Period, months: int = 12) -> list[tuple[str, int]]:
    """Cases received per month over the ``months`` months ending with ``period``: from the kept
    sums for an office (``received_by_month``; a province's year counted straight was 215 ms at
    1M), straight otherwise."""
    end = period.bounds()[1]
    start_day = period.end
    for _ in range(months):
        start_day = (start_day - timedelta(days=1)).replace(day=1)
    counted = None
    if period.end.day == 1:  # whole months
        counted = received_by_month(door_for(by), cases_for(by), start_day, period.end)
    if counted is None:
        counted = trend_counted(by, start_day, end)
    out, day = [], start_day
    for _ in range(months):
        out.append((f"{day.year}年{day.month}月", counted.get(day, 0)))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def trend_counted(by: Membership, first: date, end: datetime) -> dict[date, int]:
    """Cases ``by`` may see received per month from the month ``first`` to ``end``, counted
    straight from the cases."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    rows = (in_period(cases_for(by), start, end).order_by()
            .annotate(m=TruncMonth("received_at", tzinfo=tz)).values("m").annotate(n=Count("pk")))
    return {date(r["m"].year, r["m"].month, 1): r["n"] for r in rows if r["m"]}


@dataclass
class Measure:
    label: str
    demands: int
    closed_cases: int
    satisfied: int
    rated: int
    petitioned_again: int


def measures(cases: QuerySet[Case]) -> list[Measure]:
    """How each measure of 三到位一处理 worked: per resolution class, the demands it settled, the
    closed cases among them, how those cases were rated, and how many were petitioned again
    (a later case names them as ``repeat_of``)."""
    again = Case.objects.filter(repeat_of=OuterRef("case_id"))
    closed = Q(case__state__in=[c.State.CLOSED, c.State.ARCHIVED])
    rows = (Demand.objects.filter(case__in=cases.values("pk")).exclude(resolution_class="")
            .annotate(again=Exists(again)).values("resolution_class")
            .annotate(demands=Count("pk"),
                      closed=Count("case", filter=closed, distinct=True),
                      rated=Count("case", filter=closed & ~Q(case__rating=""), distinct=True),
                      satisfied=Count("case", filter=closed & Q(case__rating__in=[
                          c.Rating.SATISFIED, c.Rating.BASICALLY]), distinct=True),
                      repeated=Count("case", filter=Q(again=True), distinct=True)))
    labels = dict(c.ResolutionClass.choices)
    found = {r["resolution_class"]: r for r in rows}
    return [Measure(str(labels[k]), r["demands"], r["closed"], r["satisfied"], r["rated"],
                    r["repeated"])
            for k in labels if (r := found.get(k))]


def repeat_matters(cases: QuerySet[Case]) -> int:
    """How many matters the period's repeat petitions are about: each repeat counted once per
    matter (the root of its ``repeat_of`` chain, kept as ``matter_root`` — issue 14: a repeat is
    the same person and the same matter), so three visits on one matter are one matter
    petitioned again. A repeat counted by a ledger's 此前信访次数 alone, with no earlier visit
    linked, is a matter of its own."""
    matter = Coalesce("matter_root_id", "pk", output_field=BigIntegerField())
    return cases.filter(REPEAT).order_by().aggregate(n=Count(matter, distinct=True))["n"]


def flagged_cases(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The repeat, level-skipping and collective petitions, in the order received."""
    return (cases.filter(ANY_FLAG).select_related("township", "village", "leader_owner")
            .order_by("received_at", "pk"))


@dataclass
class WeeklyStatus:
    """This week's provincial batch (seed 001: due Friday 10:00): the deadline, how long is left
    or how late it is now, the cases completed so far, and when the batch was first made."""

    period: Period
    due: object
    done: int
    made_at: object | None
    clock: str  # 还剩… / 已超过…
    late: bool
    made_text: str


def weekly_status(by: Membership, now) -> WeeklyStatus:
    from xinfang.audit.models import AuditEntry

    from .l4 import weekly_cases
    from .outputs import home_of, lateness, weekly_due
    from .periods import containing

    period = containing("week", timezone.localtime(now).date())
    due = weekly_due(period)
    done = weekly_cases(by, period).count()
    # off the trail's index of report entries (``audit_report_made``; its condition written,
    # ``Written``): walked in time order among every read of a case, this took 120 ms a visit
    # with two million entries in the trail (lead49)
    made = (AuditEntry.objects.filter(Written(F("object_type"), ("report",)),
                                      object_id="weekly", detail__period=period.code,
                                      detail__jurisdiction=home_of(by).pk)
            .order_by("at").values_list("at", flat=True).first())
    left = (due - now).total_seconds()
    hours, minutes = divmod(int(abs(left)) // 60, 60)
    days, hours = divmod(hours, 24)
    span = (f"{days}天" if days else "") + f"{hours}小时{minutes}分"
    clock = f"距截止还剩{span}" if left >= 0 else f"已超过截止{span}"
    made_text = (f"本周批次已于{timezone.localtime(made):%m月%d日 %H:%M}生成"
                 f"（{lateness(due, made)}）" if made else "本周批次尚未生成")
    return WeeklyStatus(period, due, done, made, clock, left < 0 and made is None, made_text)
