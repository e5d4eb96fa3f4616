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

from django.db.models import Exists, OuterRef

from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import SHANGHAI
from xinfang.rules.profile import Profile

from .. import choices as c
from ..models import Case, CasePetitioner, Clock, Demand


@consumes("scope.matter_types", "scope.accepted_since", "scope.items", "scope.note",
          by="xinfang.cases.services.scope.scope_reasons")
def scope_reasons(case: Case, profile: Profile, *, people: list[int] | None = None,
                  categories: list[str] | None = None) -> list[str]:
    """Why the office may not accept this case (empty when it may). ``people`` / ``categories``:
    what registration knows already (the petitioning people on file before it, the demands'
    categories) — read from the case otherwise."""
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
        lower = _handled_below(case, people=people, categories=categories)
        if lower is not None:
            reasons.append(f"同一信访人的同一事项已由{lower.jurisdiction}受理（{lower.number}），"
                           "正在办理期限内，本机关不再受理（《信访工作条例》第十九条）")
        earlier = case.repeat_of
        if earlier is not None and _rereviewed(earlier):
            reasons.append(f"同一事项（{earlier.number}）已经复核，以同一事实和理由提出的不再受理"
                           "（《信访工作条例》第三十六条）")
    return reasons


def _handled_below(case: Case, *, people: list[int] | None = None,
                   categories: list[str] | None = None) -> Case | None:
    """National §19: the same people's matter, with a demand of the same category, accepted by
    an office below this one and still within its handling limit.

    One statement, driven by the people's links (a handful of rows): the other cases of the
    case's petitioning people, each tested for a demand of the same category and a running
    handling clock. (A join of the five tables cost the planner ~100 ms at 200k cases for the
    same plan.) ``people`` given and empty — everyone new at registration — reads nothing."""
    if people is not None and not people:
        return None
    if people is None:
        people = case.petitioner_links.filter(role__in=c.PETITIONING_ROLES).values(
            "petitioner_id")
    if categories is None:
        categories = case.demands.values("category")
    theirs = CasePetitioner.objects.filter(
        petitioner_id__in=people, role__in=c.PETITIONING_ROLES).values("case_id")
    same_kind = Demand.objects.filter(case=OuterRef("pk"), category__in=categories)
    in_hand = Clock.objects.filter(case=OuterRef("pk"), name="handling", status="running",
                                   due_at__gt=case.received_at)
    return (Case.objects.filter(
        pk__in=theirs, jurisdiction__path__startswith=case.jurisdiction.path,
        state__in=c.OPEN_STATES, accepted_at__isnull=False,
    ).filter(Exists(same_kind), Exists(in_hand)).exclude(jurisdiction_id=case.jurisdiction_id)
        .select_related("jurisdiction").order_by("pk").first())


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
