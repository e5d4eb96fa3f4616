"""What an office accepts (受理范围): the profile's ``scope`` and the national rule against
accepting a re-reviewed matter again.

Every petition is registered (有访必登); one outside the scope cannot go on to a proposal: the clerk
is told why, and the decline records the reasons and the profile's guidance.

- ``scope.matter_types`` / ``scope.accepted_since`` — seed 002 §四(一): kaijiang takes 求决类
  matters raised since 2018-08-01 only.
- national §19 — a matter accepted below and still within its handling limit is not accepted
  again by the office above.
- national §36 — a matter decided on re-review (复核) is not accepted again on the same facts.
"""

from __future__ import annotations

from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import SHANGHAI
from xinfang.rules.profile import Profile

from .. import choices as c
from ..models import Case


@consumes("scope.matter_types", "scope.accepted_since", "scope.items", "scope.note",
          by="xinfang.cases.services.scope.scope_reasons")
def scope_reasons(case: Case, profile: Profile) -> list[str]:
    """Why the office may not accept this case (empty when it may)."""
    scope = profile.scope
    reasons = []
    if case.kind == c.Kind.PETITION:
        if scope.matter_types and case.matter_type not in scope.matter_types:
            allowed = "、".join(str(c.MatterType(t).label) for t in scope.matter_types)
            reasons.append(f"本机关只受理{allowed}信访事项（{scope.seed}），本件为"
                           f"{c.MatterType(case.matter_type).label}")
        received = case.received_at.astimezone(SHANGHAI).date()
        if scope.accepted_since and received < scope.accepted_since:
            reasons.append(f"本机关受理{scope.accepted_since:%Y年%m月%d日}起反映的信访事项"
                           f"（{scope.seed}），本件反映于{received:%Y年%m月%d日}")
        lower = _handled_below(case)
        if lower is not None:
            reasons.append(f"同一信访人的同一事项已由{lower.jurisdiction}受理（{lower.number}），"
                           "正在办理期限内，本机关不再受理（《信访工作条例》第十九条）")
        earlier = case.repeat_of
        if earlier is not None and _rereviewed(earlier):
            reasons.append(f"同一事项（{earlier.number}）已经复核，以同一事实和理由提出的不再受理"
                           "（《信访工作条例》第三十六条）")
    return reasons


def _handled_below(case: Case) -> Case | None:
    """National §19: the same people's matter, with a demand of the same category, accepted by
    an office below this one and still within its handling limit."""
    path = case.jurisdiction.path
    return (Case.objects.filter(
        jurisdiction__path__startswith=path, state__in=c.OPEN_STATES, accepted_at__isnull=False,
        petitioner_links__role__in=c.PETITIONING_ROLES,
        petitioner_links__petitioner__in=case.petitioner_links.filter(
            role__in=c.PETITIONING_ROLES).values("petitioner_id"),
        demands__category__in=case.demands.values("category"),
        clocks__name="handling", clocks__status="running", clocks__due_at__gt=case.received_at,
    ).exclude(jurisdiction_id=case.jurisdiction_id).select_related("jurisdiction")
        .order_by("pk").first())


def _rereviewed(case: Case) -> bool:
    """The earlier case's review chain ended in a re-review decision."""
    review = case.reviews.first()
    while review is not None:
        if review.kind == c.Kind.REREVIEW and review.documents.filter(
            kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED
        ).exists():
            return True
        review = review.reviews.first()
    return False


def scope_guidance(profile: Profile) -> str:
    """What the clerk tells the petitioner (the profile's note, or the national default)."""
    return profile.scope.note or "引导信访人向有权处理的机关提出"
