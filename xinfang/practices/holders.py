"""Which units hold a meeting rule's meetings: ``township`` — every township under the
jurisdiction; ``base`` — its base units (townships or villages, line offices, area teams: seed
004 "基层单位"); ``office`` — the jurisdiction's office itself."""

from __future__ import annotations

from django.db.models import QuerySet

from xinfang.org.choices import UnitKind
from xinfang.org.models import Unit
from xinfang.rules.profile.schema import MeetingRule

HOLDER_KINDS = {
    "township": (UnitKind.TOWNSHIP,),
    "base": (UnitKind.TOWNSHIP, UnitKind.LINE_OFFICE, UnitKind.AREA_TEAM),
}


def holders(rule: MeetingRule, home: Unit) -> QuerySet[Unit]:
    if rule.by == "office":
        return Unit.objects.filter(pk=home.pk)
    return Unit.objects.filter(
        path__under=home.path, kind__in=HOLDER_KINDS[rule.by], parent=home
    ).order_by("name")


def holds(rule: MeetingRule, unit: Unit, home: Unit) -> bool:
    if rule.by == "office":
        return unit.pk == home.pk
    return unit.parent_id == home.pk and unit.kind in HOLDER_KINDS[rule.by]
