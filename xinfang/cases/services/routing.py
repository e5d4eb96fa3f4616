"""转 — which units a case should go to (proposals) and which it may never go to (constraints)."""

from __future__ import annotations

from xinfang.org.choices import UnitKind
from xinfang.org.models import Unit, units_held_active
from xinfang.rules.consumers import consumes
from xinfang.rules.profile import Profile
from xinfang.security.recusal import unit_recusal_reason

from ..errors import Refused
from ..facts import case_facts
from ..models import Case
from .base import is_office_of

# Not offered as assisting units on the assign form: the office that registers and assigns (it
# leads only where a profile's routing rule names its kind) and the discipline commission (it
# takes a case as lead or by transfer).
NEVER_ASSISTING = (UnitKind.PETITION_OFFICE, UnitKind.POVERTY_OFFICE, UnitKind.DISCIPLINE)


def check_assignable(*, case: Case, unit: Unit, profile: Profile) -> None:
    """Refuse a unit the profile's constraints forbid, a respondent unit, or a unit outside the
    jurisdiction — naming the rule so the clerk can point to it."""
    if not unit.is_active:
        # Switched off (merged, renamed away): the pages no longer offer it; a call naming it
        # by id, or a form read before it was switched off, is told so.
        raise Refused(f"{unit}已停用，不能交办。", field="lead")
    reason = unit_recusal_reason(unit=unit, case=case)
    if reason:
        raise Refused(reason, field="lead")
    if not unit.is_within(case.jurisdiction) and unit.pk != case.jurisdiction_id:
        raise Refused(f"{unit}不在{case.jurisdiction}辖区内，不能交办。", field="lead")
    facts = case_facts(case, unit=unit)
    for rule in profile.constraints:
        if rule.when.matches(facts):
            raise Refused(f"不能交办给{unit}：违反规则“{rule.label}”（{rule.name}，{rule.seed}）。",
                          field="lead")


def check_assignable_now(*, case: Case, units: list[Unit], profile: Profile) -> None:
    """``check_assignable`` for the units an assignment is about to name, whether each is still
    active read again and held (``units_held_active``): a unit switched off since the form
    was read is refused, and one switched off at this moment waits for the assignment or is
    refused by it (``unit_set_active`` counts the open assignments)."""
    active = units_held_active(u.pk for u in units)
    for unit in units:
        unit.is_active = unit.pk in active
        check_assignable(case=case, unit=unit, profile=profile)


def _local(units: list[Unit], case: Case) -> list[Unit]:
    """属地管理: of several units of one kind, the one of the case's township alone (not every
    township of the district); a kind that does not sit inside townships (an area team, a
    bureau) keeps them all, the locality's own first."""
    if not case.township_id:
        return units
    local = [u for u in units if u.is_within(case.township)]
    return local or sorted(units, key=lambda u: not u.is_within(case.township))


LINE_KINDS = (UnitKind.BUREAU, UnitKind.LINE_OFFICE)


@consumes("line_bureaus", by="xinfang.cases.services.routing.line_bureaus_for")
def line_bureaus_for(*, case: Case, profile: Profile, units: list[Unit]) -> list[Unit]:
    """The line bureaus (行业部门) of the case's demand categories, in the order of its demands:
    the units of ``units`` whose name holds the bureau the profile names for the category
    (``line_bureaus``: 危房改造 → 住建局 finds 区住建局)."""
    if not profile.line_bureaus:
        return []
    words: dict[str, list[str]] = {}
    for line in profile.line_bureaus:
        words.setdefault(line.category, []).append(line.bureau)
    found: list[Unit] = []
    categories = case.demands.order_by("seq").values_list("category", flat=True)
    for category in dict.fromkeys(categories):
        for word in words.get(category, []):
            found += [u for u in units
                      if u.kind in LINE_KINDS and word in u.name and u not in found]
    return found


def propose_units(*, case: Case, profile: Profile) -> list[dict]:
    """Routing proposals for the sign-off page: each matching rule with the units of the kinds it
    names inside the jurisdiction, assignable ones only — the township of the locality first
    (属地管理), then the line bureau of the demands' categories (issue 15); never the office
    itself as an assisting unit."""
    facts = case_facts(case)
    proposals = []
    units = list(Unit.objects.filter(path__under=case.jurisdiction.path, is_active=True))

    def ok(u: Unit) -> bool:
        try:
            check_assignable(case=case, unit=u, profile=profile)
        except Refused:
            return False
        return True

    bureaus = [u for u in line_bureaus_for(case=case, profile=profile, units=units) if ok(u)]
    for rule in profile.routing:
        if not rule.when.matches(facts):
            continue

        lead = _local([u for u in units if u.kind == rule.lead and ok(u)], case)
        if rule.lead in LINE_KINDS:  # of the bureaus, the one of the category first
            lead = [u for u in bureaus if u in lead] + [u for u in lead if u not in bureaus]
        assist: list[Unit] = []
        for kind in rule.assist:
            of_kind = [u for u in units if u.kind == kind]
            if kind in LINE_KINDS:  # the bureau of the category, else every one of the kind
                of_kind = [u for u in bureaus if u.kind == kind] or of_kind
            else:
                of_kind = _local(of_kind, case)
            assist += [u for u in of_kind if u not in lead and u not in assist
                       and not is_office_of(u, case) and ok(u)]
        proposals.append({"rule": rule.name, "note": rule.note, "seed": rule.seed,
                          "lead": lead, "assist": assist, "bureaus": bureaus})
    return proposals


consumes("routing.when", "routing.lead", "routing.assist", "constraints.when",
         by="xinfang.cases.services.routing")
