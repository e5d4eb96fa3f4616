"""A jurisdiction as a petition office has it: the district, its petition office, discipline
commission and bureaus, townships with villages, and one user per role. The demo and the tests
build the same tree, so what the tests prove is what the demo shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from xinfang.org.choices import Level, Role, UnitKind
from xinfang.org.models import Membership, Unit, User

TOWNSHIPS = {
    "将官池镇": ["岗朱村", "大路陈村", "霍庄村"],
    "五女店镇": ["五女店村", "魏庄村"],
    "椹涧乡": ["椹涧村", "小河村"],
}
BUREAUS = ["区教育局", "区民政局", "区住建局", "区医保局", "区农业农村局"]


@dataclass
class Jurisdiction:
    province: Unit
    city: Unit
    county: Unit
    office: Unit
    discipline: Unit
    bureaus: dict[str, Unit]
    townships: dict[str, Unit]
    villages: dict[str, Unit]
    city_office: Unit
    members: dict[str, Membership] = field(default_factory=dict)

    def member(self, key: str) -> Membership:
        return self.members[key]


def _unit(name, level, kind, parent=None, **extra) -> Unit:
    unit, _ = Unit.objects.get_or_create(
        name=name, parent=parent, defaults={"level": level, "kind": kind, **extra}
    )
    return unit


def _member(username: str, full_name: str, unit: Unit, role: str, password: str) -> Membership:
    user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
    if created:
        user.set_password(password)
        user.save()
    membership, _ = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    return membership


@transaction.atomic
def build_jurisdiction(
    *,
    profile_code: str = "jianan",
    county_name: str = "建安区",
    short_name: str = "建安",
    password: str = "Xinfang#2026demo",
    username_prefix: str = "",
) -> Jurisdiction:
    province = _unit("河南省", Level.PROVINCE, UnitKind.GOVERNMENT)
    city = _unit(
        "许昌市",
        Level.CITY,
        UnitKind.GOVERNMENT,
        province,
        profile_code="national",
        short_name="许",
    )
    county = _unit(
        county_name,
        Level.COUNTY,
        UnitKind.GOVERNMENT,
        city,
        profile_code=profile_code,
        short_name=short_name,
    )
    office = _unit(f"{county_name}乡村振兴局", Level.COUNTY, UnitKind.POVERTY_OFFICE, county)
    city_office = _unit("许昌市信访局", Level.CITY, UnitKind.PETITION_OFFICE, city)
    discipline = _unit(f"{county_name}纪委监察委", Level.COUNTY, UnitKind.DISCIPLINE, county)
    bureaus = {n: _unit(n, Level.COUNTY, UnitKind.BUREAU, county) for n in BUREAUS}
    # A street office's business lines and area teams (seed 004 §一(一)).
    bureaus["社会事务线"] = _unit("社会事务线", Level.COUNTY, UnitKind.LINE_OFFICE, county)
    bureaus["第一片区工作组"] = _unit("第一片区工作组", Level.COUNTY, UnitKind.AREA_TEAM, county)
    townships, villages = {}, {}
    for tname, vnames in TOWNSHIPS.items():
        t = townships[tname] = _unit(tname, Level.TOWNSHIP, UnitKind.TOWNSHIP, county)
        for vname in vnames:
            villages[vname] = _unit(vname, Level.VILLAGE, UnitKind.VILLAGE, t)
    j = Jurisdiction(
        province, city, county, office, discipline, bureaus, townships, villages, city_office
    )
    p = username_prefix
    people = [
        ("clerk", "李文静", office, Role.CLERK),
        ("approver", "王建国", office, Role.APPROVER),
        ("chief", "张志强", county, Role.CHIEF),
        ("inspector", "赵丽", office, Role.INSPECTOR),
        ("township", "陈晓东", townships["将官池镇"], Role.UNIT_HANDLER),
        ("township_head", "刘海", townships["将官池镇"], Role.LINE_HEAD),
        ("proxy", "孙红梅", townships["将官池镇"], Role.PROXY_AGENT),
        ("bureau", "周明", bureaus["区民政局"], Role.UNIT_HANDLER),
        ("discipline", "吴刚", discipline, Role.DISCIPLINE),
        ("city_clerk", "郑敏", city_office, Role.CLERK),
        ("sysadmin", "系统管理员", county, Role.SYSADMIN),
        ("secadmin", "安全管理员", county, Role.SECADMIN),
        ("auditor", "审计管理员", county, Role.AUDITOR),
    ]
    for key, name, unit, role in people:
        j.members[key] = _member(f"{p}{key}", name, unit, role, password)
    return j
