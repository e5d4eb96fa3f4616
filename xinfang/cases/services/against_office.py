"""接 → 转 at registration: a petition against the registering office itself.

The permission door hides a case from everyone inside a unit complained about (seed 000 §九), so
a petition naming the registering office — or someone in it — would be registered and then seen
by nobody who may move it. The profile's ``against_office`` rule says where such a case goes at
registration: ``upper_office`` (the petition office of the jurisdiction above; further up while
that one is complained about too) or ``discipline`` (the jurisdiction's discipline commission;
the level above when there is none that is not itself complained about).

A respondent named as a person stands for their own unit(s) as well: ``respondent_rows`` writes
each unit the person holds a (non-administrator) membership in as a respondent of its own, so
the door, the assignment refusal and the routing proposals all keep the case from that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang.org.choices import ADMIN_ROLES, UnitKind
from xinfang.org.models import Membership, Unit
from xinfang.rules.profile import AgainstOfficeRule

from ..errors import Refused

UPPER, DISCIPLINE = "upper_office", "discipline"
ROUTE_LABELS = {UPPER: "上一级信访工作机构", DISCIPLINE: "纪检监察机关"}
UPPER_OFFICE_KINDS = (UnitKind.PETITION_OFFICE, UnitKind.POVERTY_OFFICE)


@dataclass(frozen=True)
class RespondentRow:
    name: str
    position: str = ""
    unit: Unit | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Destination:
    """Where a petition against the registering office is registered and who receives it."""

    route: str  # UPPER or DISCIPLINE: what was done
    jurisdiction: Unit  # the jurisdiction the case belongs to
    unit: Unit  # who receives it: that jurisdiction's petition office, or the commission
    rule: AgainstOfficeRule
    fallback: str = ""  # why the profile's choice could not be followed, if it could not

    def message(self, number: str) -> str:
        return (
            f"信访件 {number} 已登记。本件反映的是本机关（或其工作人员），本机关依规回避，"
            f"已按规则转{self.unit}办理（{self.rule.seed}）。您和本单位此后不能查看本件；"
            f"信访人可凭编号和查询码在{self.unit}查询办理进度。"
        )

    def payload(self, *, registered_by: Unit) -> dict:
        return {
            "route": self.route,
            "routed_to": self.unit.name,
            "jurisdiction": self.jurisdiction.name,
            "from": registered_by.name,
            "basis": self.rule.note,
            "seed": self.rule.seed,
            **({"reason": self.fallback} if self.fallback else {}),
        }


def respondent_rows(respondents) -> list[RespondentRow]:
    """The respondents as given, plus, for a person with no unit of theirs given, one row per
    unit the person works in — so their unit is a respondent too."""
    rows: list[RespondentRow] = []
    for r in respondents:
        own_units: list[Unit] = []
        if r.user_id:
            own_units = [
                m.unit
                for m in Membership.objects.filter(user_id=r.user_id, is_active=True)
                .exclude(role__in=ADMIN_ROLES)
                .select_related("unit")
                .order_by("pk")
            ]
        first_unit = r.unit or (own_units[0] if own_units else None)
        rows.append(RespondentRow(r.name, r.position, first_unit, r.user_id))
        seen = {first_unit.pk} if first_unit else set()
        for unit in own_units:
            if unit.pk not in seen:
                seen.add(unit.pk)
                rows.append(RespondentRow(r.name, r.position, unit, r.user_id))
    return rows


def accused(unit: Unit, rows: list[RespondentRow], user=None) -> bool:
    """``is_respondent_side`` before the case exists: the unit is, or sits inside, a respondent
    unit — or the user is a respondent."""
    inside = set(unit.path_ids)
    return any(
        (row.unit is not None and row.unit.pk in inside)
        or (user is not None and row.user_id == user.pk)
        for row in rows
    )


def destination(
    *, by: Membership, jurisdiction: Unit, rule: AgainstOfficeRule, rows: list[RespondentRow]
) -> Destination | None:
    """None when the registering office may handle the case; else where it goes instead."""
    if not accused(by.unit, rows, by.user):
        return None
    fallback = ""
    if rule.to == DISCIPLINE:
        commission = _discipline_of(jurisdiction, rows)
        if commission is not None:
            return Destination(DISCIPLINE, jurisdiction, commission, rule)
        fallback = f"{jurisdiction}没有未被反映的纪检监察机关，转上一级"
    upper, office = _upper_office(jurisdiction, rows)
    return Destination(UPPER, upper, office, rule, fallback)


def _discipline_of(jurisdiction: Unit, rows: list[RespondentRow]) -> Unit | None:
    commissions = Unit.objects.filter(
        kind=UnitKind.DISCIPLINE,
        level=jurisdiction.level,
        is_active=True,
        path__under=jurisdiction.path,
    ).order_by("path")
    return next((u for u in commissions if not accused(u, rows)), None)


def _upper_office(jurisdiction: Unit, rows: list[RespondentRow]) -> tuple[Unit, Unit]:
    """The nearest jurisdiction above whose petition office is not complained about."""
    here = jurisdiction
    while True:
        upper = here.parent.jurisdiction() if here.parent_id else None
        if upper is None:
            raise Refused(
                f"本件反映的是本机关，须由上一级机关办理，但{here}以上没有设置规则配置的受理机关。"
                "请系统管理员设置上一级机关后再登记。",
                field="respondents",
            )
        office = (
            Unit.objects.filter(
                parent=upper, level=upper.level, kind__in=UPPER_OFFICE_KINDS, is_active=True
            )
            .order_by("kind", "pk")  # petition_office before poverty_office
            .first()
        ) or upper
        if not accused(office, rows):
            return upper, office
        here = upper


from xinfang.rules.consumers import consumes  # noqa: E402  (the registry of profile keys)

consumes("against_office.to", by="xinfang.cases.services.against_office.destination")
