"""Rates measured against a profile's targets (e.g. kaijiang §二: replied 100 %, satisfied ≥ 90 %).

Counts are taken over a queryset the caller has already passed through the permission door, so a
township's scorecard counts only what the township may see. A period narrows the cases to those
received in it (``in_period``); ``counts_by_unit`` splits the same counts by the lead handling
unit (承办单位) or by township (属地) in one grouped query, however many units there are.

Every rate names its numerator and denominator (``COUNT_LABELS``). A target whose definition makes
it 100 % whatever happens is marked ``by_construction`` and never judged met or unmet: in this
system a petition exists only once it is registered (建档立卡 is the registration itself), so
"registered / received" (建档立卡率) can only fall short by the cases merged into another —
which were registered too. It is shown as "100 % by construction", with its counts, and never
judged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet, Subquery

from xinfang.rules.profile import Profile

from . import choices as c
from .models import Assignment, Case, Delivery, Document
from .probes import among_or_in

COUNT_LABELS = {
    "received": "收到信访件数",
    "registered": "登记建档件数",
    "accepted": "受理件数",
    "replied": "出具处理意见书件数",
    "delivered_written": "处理意见书面送达签收件数",
    "resolved": "化解（销号）件数",
    "closed": "办结件数",
    "rated": "参与满意度评价件数",
    "satisfied": "满意（含基本满意）件数",
    "proxy_handled": "代办件数",
    "proxy_closed": "代办件办结件数",
    "proxy_rated": "代办件参与评价件数",
    "proxy_satisfied": "代办件满意（含基本满意）件数",
    "reviewed": "结案审核件数",
    "review_passed": "审核通过件数",
    "resolved_passed": "化解（销号）且审核通过件数",
}
# (numerator, denominator) pairs equal by the system's own rules (see the module's docstring).
BY_CONSTRUCTION = {("registered", "received")}
SPLITS = {"unit": "承办单位", "township": "属地乡镇（街道）"}
NO_UNIT = "未交办"


def in_period(cases: QuerySet[Case], start: datetime | None, end: datetime | None
              ) -> QuerySet[Case]:
    """The cases received in ``[start, end)`` (either side open when ``None``)."""
    if start is not None:
        cases = cases.filter(received_at__gte=start)
    if end is not None:
        cases = cases.filter(received_at__lt=end)
    return cases


def _wanted(among=None) -> dict[str, Q]:
    """Each count's condition. The "has a …" tests are correlated EXISTS probes on the related
    table's case index: a period's or a township's few thousand cases cost a few thousand index
    probes, where ``pk IN (subquery)`` made the database read every proxy event, letter and
    delivery of the whole system each time (3,000,000 history entries at 200,000 cases).
    ``among``: the cases counted (ids, or a subquery of them), when few — PostgreSQL may hash a
    probe's whole table once instead; narrowed to them, it hashes only their rows."""
    issued = Document.objects.filter(
        case=OuterRef("pk"), kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED
    )
    written = (
        Delivery.objects.filter(
            case=OuterRef("pk"), document__kind=c.DocumentKind.DECISION_LETTER,
            mode__in=list(c.WRITTEN_MODES),
        )
        .filter(Q(receipt_signed=True) | Q(refused=True, witness__gt=""))
    )
    if among is not None:
        issued = issued.filter(among_or_in("case_id", among))
        written = written.filter(among_or_in("case_id", among))
    # Issue 17: a case is proxied when it is marked so (``ProxyHandling``), not when some proxy
    # agent wrote an entry in its history; a case is reviewed when a review round exists, and
    # passed when one passed (a passed case is not reviewed again).
    # The mark and the passed round are at most one row per case (a one-to-one, and a unique
    # partial constraint): read by one LEFT JOIN each (``_joined``), shared by the four proxy
    # counts and the two "passed" ones, where an EXISTS probe each cost six probes a case.
    from xinfang.oversight.models import CaseReview

    proxied = Q(proxy__isnull=False)
    reviews = CaseReview.objects.filter(case=OuterRef("pk"))
    passed = Q(passed_review__isnull=False)
    closed = Q(state__in=[c.State.CLOSED, c.State.ARCHIVED])
    rated = ~Q(rating="")
    satisfied = Q(rating__in=[c.Rating.SATISFIED, c.Rating.BASICALLY])
    return {
        "received": Q(),
        "registered": ~Q(state=c.State.MERGED),
        "accepted": Q(accepted_at__isnull=False),
        "replied": Q(Exists(issued)),
        "delivered_written": Q(Exists(written)),
        "resolved": closed & Q(closed_at__isnull=False),
        "closed": closed,
        "rated": rated,
        "satisfied": satisfied,
        "proxy_handled": proxied,
        "proxy_closed": proxied & closed,
        "proxy_rated": proxied & rated,
        "proxy_satisfied": proxied & satisfied,
        "reviewed": Q(Exists(reviews)),
        "review_passed": passed,
        "resolved_passed": closed & Q(closed_at__isnull=False) & passed,
    }


def _joined(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with the passed review joined (the name ``_wanted`` uses)."""
    return cases.alias(passed_review=FilteredRelation(
        "closing_reviews", condition=Q(closing_reviews__passed=True)))


def _aggregates(among=None) -> dict:
    return {name: Count("pk", filter=q) if q else Count("pk")
            for name, q in _wanted(among).items()}


def counts(cases: QuerySet[Case]) -> dict[str, int]:
    """Every count in one pass over the cases (one query): each "has a …" test is a subquery the
    database evaluates once, not a probe per case."""
    found = _joined(cases.order_by()).aggregate(**_aggregates())
    return {name: found[name] or 0 for name in COUNT_LABELS}


def lead_unit() -> Subquery:
    """The case's current lead handling unit (主办单位): its newest lead assignment not handed
    on. PostgreSQL reads it off ``assignment_lead_newest`` (0039), whose condition this one must
    imply."""
    return Subquery(
        Assignment.objects.filter(case=OuterRef("pk"), role=c.AssignmentRole.LEAD)
        .exclude(status=c.AssignmentStatus.TRANSFERRED)
        .order_by("-assigned_at", "-pk").values("unit_id")[:1]
    )


def counts_by_unit(cases: QuerySet[Case], split: str = "unit") -> dict[int | None, dict[str, int]]:
    """``counts`` per lead handling unit (``split="unit"``) or per township (``"township"``), in
    one grouped query; the key ``None`` holds the cases with no unit (not yet assigned, or no
    township recorded)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
    qs = _joined(cases.order_by())
    if split == "unit":
        qs = qs.annotate(split_unit=lead_unit()).values("split_unit")
        key = "split_unit"
    else:
        qs = qs.values("township")
        key = "township"
    out: dict[int | None, dict[str, int]] = {}
    for row in qs.annotate(**_aggregates()):
        out[row[key]] = {name: row[name] or 0 for name in COUNT_LABELS}
    return out


@dataclass(frozen=True)
class TargetResult:
    name: str
    label: str
    numerator: int
    denominator: int
    threshold: float
    seed: str
    numerator_name: str = ""
    denominator_name: str = ""
    by_construction: bool = False

    @property
    def numerator_label(self) -> str:
        return COUNT_LABELS.get(self.numerator_name, self.numerator_name)

    @property
    def denominator_label(self) -> str:
        return COUNT_LABELS.get(self.denominator_name, self.denominator_name)

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        if self.by_construction or self.rate is None:
            return None
        return self.rate >= self.threshold


def results_of(n: dict[str, int], profile: Profile) -> list[TargetResult]:
    """The profile's targets measured over the counts ``n``."""
    out = []
    for t in profile.targets:
        constant = (t.numerator, t.denominator) in BY_CONSTRUCTION
        out.append(TargetResult(
            t.name, t.label, n[t.numerator], n[t.denominator], t.threshold, t.seed,
            numerator_name=t.numerator, denominator_name=t.denominator,
            by_construction=constant))
    return out


def target_results(cases: QuerySet[Case], profile: Profile) -> list[TargetResult]:
    return results_of(counts(cases), profile)


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

consumes("targets.numerator", "targets.denominator", "targets.threshold",
         by="xinfang.cases.rates.target_results")
