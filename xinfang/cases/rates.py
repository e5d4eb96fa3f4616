"""Rates measured against a profile's targets (e.g. kaijiang §二: replied 100 %, satisfied ≥ 90 %).

Counts are taken over a queryset the caller has already passed through the permission door, so a
township's scorecard counts only what the township may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from xinfang.rules.profile import Profile

from . import choices as c
from .models import Case, CaseEvent, Delivery, Document


def counts(cases: QuerySet[Case]) -> dict[str, int]:
    issued = Document.objects.filter(
        case=OuterRef("pk"), kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED
    )
    written = Delivery.objects.filter(
        case=OuterRef("pk"),
        document__kind=c.DocumentKind.DECISION_LETTER,
        mode__in=list(c.WRITTEN_MODES),
    ).filter(Q(receipt_signed=True) | Q(refused=True, witness__gt=""))
    proxy = CaseEvent.objects.filter(case=OuterRef("pk"), actor_role="proxy_agent")
    qs = cases.annotate(_replied=Exists(issued), _written=Exists(written), _proxy=Exists(proxy))
    closed = Q(state__in=[c.State.CLOSED, c.State.ARCHIVED])
    return {
        "received": qs.count(),
        "registered": qs.exclude(state=c.State.MERGED).count(),
        "accepted": qs.filter(accepted_at__isnull=False).count(),
        "replied": qs.filter(_replied=True).count(),
        "delivered_written": qs.filter(_written=True).count(),
        "resolved": qs.filter(closed, closed_at__isnull=False).count(),
        "closed": qs.filter(closed).count(),
        "rated": qs.exclude(rating="").count(),
        "satisfied": qs.filter(rating__in=[c.Rating.SATISFIED, c.Rating.BASICALLY]).count(),
        "proxy_handled": qs.filter(_proxy=True).count(),
    }


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
