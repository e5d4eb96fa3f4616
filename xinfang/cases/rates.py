"""Rates measured against a profile's targets (e.g. kaijiang §二: replied 100 %, satisfied ≥ 90 %).

Counts are taken over a queryset the caller has already passed through the permission door, so a
township's scorecard counts only what the township may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from xinfang.rules.profile import Profile

from . import choices as c
from .models import Case, CaseEvent, Delivery, Document


def counts(cases: QuerySet[Case]) -> dict[str, int]:
    """Every count in one pass over the cases (one query): each "has a …" test is a subquery the
    database evaluates once, not a probe per case."""
    issued = Document.objects.filter(
        kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED
    ).values("case_id")
    written = (
        Delivery.objects.filter(
            document__kind=c.DocumentKind.DECISION_LETTER, mode__in=list(c.WRITTEN_MODES)
        )
        .filter(Q(receipt_signed=True) | Q(refused=True, witness__gt=""))
        .values("case_id")
    )
    proxy = CaseEvent.objects.filter(actor_role="proxy_agent").values("case_id")
    closed = Q(state__in=[c.State.CLOSED, c.State.ARCHIVED])
    wanted = {
        "received": Q(),
        "registered": ~Q(state=c.State.MERGED),
        "accepted": Q(accepted_at__isnull=False),
        "replied": Q(pk__in=issued),
        "delivered_written": Q(pk__in=written),
        "resolved": closed & Q(closed_at__isnull=False),
        "closed": closed,
        "rated": ~Q(rating=""),
        "satisfied": Q(rating__in=[c.Rating.SATISFIED, c.Rating.BASICALLY]),
        "proxy_handled": Q(pk__in=proxy),
    }
    found = cases.order_by().aggregate(
        **{name: Count("pk", filter=q) if q else Count("pk") for name, q in wanted.items()}
    )
    return {name: found[name] or 0 for name in wanted}


@dataclass(frozen=True)
class TargetResult:
    name: str
    label: str
    numerator: int
    denominator: int
    threshold: float
    seed: str

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.threshold


def target_results(cases: QuerySet[Case], profile: Profile) -> list[TargetResult]:
    n = counts(cases)
    return [
        TargetResult(t.name, t.label, n[t.numerator], n[t.denominator], t.threshold, t.seed)
        for t in profile.targets
    ]


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

consumes("targets.numerator", "targets.denominator", "targets.threshold",
         by="xinfang.cases.rates.target_results")
