"""A province's unit tree and the people who work in it.

One province, 17 cities (each with its petition bureau), about 150 counties (each a jurisdiction
under a rule profile, with its poverty office as petition office, discipline commission, bureaus,
a business line and an area team), about 16 townships per county and 8–20 villages per township.
Each county has a clerk, an approver, a chief and an inspector; each township and bureau a unit
handler; each discipline commission a discipline member.

The first county is the demo's 建安区 under 许昌市 with the demo's usernames (``clerk``,
``approver``, ``township`` …), and receives a busy county's share of the cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from xinfang.org.choices import Level, Role, UnitKind

CITIES = ("许昌市 郑州市 开封市 洛阳市 平顶山市 安阳市 鹤壁市 新乡市 焦作市 濮阳市 漯河市 "
          "三门峡市 南阳市 商丘市 信阳市 周口市 驻马店市").split()
BUREAUS = ["教育局", "民政局", "住建局", "医保局", "农业农村局"]
DEMO_TOWNSHIPS = {"将官池镇": ["岗朱村", "大路陈村", "霍庄村"], "五女店镇": ["五女店村", "魏庄村"],
                  "椹涧乡": ["椹涧村", "小河村"]}
TOWN_WORDS = "东西南北新城关河桥岗集店营寨庄铺湖山陵台坡楼"
VILLAGE_WORDS = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"


@dataclass
class County:
    index: int
    unit: int
    name: str
    short_name: str
    office: int
    discipline: int
    bureaus: list[int]
    townships: list[int]
    villages: dict[int, list[int]]  # township id -> village ids
    names: dict[int, str]  # unit id -> name (townships and villages)
    users: dict[str, int] = field(default_factory=dict)  # role key -> user id
    handlers: dict[int, int] = field(default_factory=dict)  # unit id -> its handler's user id
    weight: float = 1.0


@dataclass
class Tree:
    units: list[tuple]  # (id, name, short_name, level, kind, parent_id, path, profile_code)
    users: list[tuple]  # (id, username, full_name)
    memberships: list[tuple]  # (id, user_id, unit_id, role)
    counties: list[County]
    city_offices: list[int]


class _Ids:
    def __init__(self):
        self.unit = self.user = self.membership = 0


def build_tree(rng: random.Random, *, counties: int = 150, townships: int = 16,
               profile_code: str = "jianan", city_profile: str = "national") -> Tree:
    ids = _Ids()
    units: list[tuple] = []
    users: list[tuple] = []
    memberships: list[tuple] = []
    paths: dict[int, str] = {}

    def unit(name, level, kind, parent, short="", profile=""):
        ids.unit += 1
        pk = ids.unit
        paths[pk] = (paths[parent] if parent else "/") + f"{pk}/"
        units.append((pk, name, short, level, kind, parent, paths[pk], profile))
        return pk

    def person(username, full_name, unit_id, role):
        ids.user += 1
        ids.membership += 1
        users.append((ids.user, username, full_name))
        memberships.append((ids.membership, ids.user, unit_id, role))
        return ids.user

    # The province under the national profile, as its cities: its inspector then reads every
    # case of the province (the widest reader; without a profile the door showed it nothing).
    province = unit("河南省", Level.PROVINCE, UnitKind.GOVERNMENT, None, profile=city_profile)
    person("province_inspector", "省督查", province, Role.INSPECTOR)
    out: list[County] = []
    city_offices = []
    per_city = [counties // len(CITIES) + (1 if i < counties % len(CITIES) else 0)
                for i in range(len(CITIES))]
    for ci, city_name in enumerate(CITIES):
        city = unit(city_name, Level.CITY, UnitKind.GOVERNMENT, province,
                    short=city_name[:2], profile=city_profile)
        office = unit(f"{city_name}信访局", Level.CITY, UnitKind.PETITION_OFFICE, city)
        city_offices.append(office)
        person("city_clerk" if ci == 0 else f"c{ci}_clerk", f"{city_name}经办人", office,
               Role.CLERK)
        for k in range(per_city[ci]):
            demo = ci == 0 and k == 0
            name = "建安区" if demo else f"{city_name[:-1]}{'东西南北中'[k % 5]}{k // 5 + 1}县"
            short = "建安" if demo else f"{city_name[:2]}{k + 1}"
            out.append(_county(rng, unit, person, city, len(out), name, short, profile_code,
                               townships, demo))
    return Tree(units, users, memberships, out, city_offices)


def _county(rng, unit, person, city, index, name, short, profile_code, townships, demo) -> County:
    county = unit(name, Level.COUNTY, UnitKind.GOVERNMENT, city, short=short,
                  profile=profile_code)
    office = unit(f"{name}乡村振兴局", Level.COUNTY, UnitKind.POVERTY_OFFICE, county)
    discipline = unit(f"{name}纪委监察委", Level.COUNTY, UnitKind.DISCIPLINE, county)
    bureaus = [unit(f"{name[:-1]}{b}", Level.COUNTY, UnitKind.BUREAU, county) for b in BUREAUS]
    bureaus.append(unit("社会事务线", Level.COUNTY, UnitKind.LINE_OFFICE, county))
    bureaus.append(unit("第一片区工作组", Level.COUNTY, UnitKind.AREA_TEAM, county))
    c = County(index, county, name, short, office, discipline, bureaus, [], {}, {})
    town_names = list(DEMO_TOWNSHIPS) if demo else []
    while len(town_names) < townships:
        candidate = f"{rng.choice(TOWN_WORDS)}{rng.choice(TOWN_WORDS)}{rng.choice('镇乡')}"
        if candidate not in town_names:
            town_names.append(candidate)
    for tname in town_names:
        t = unit(tname, Level.TOWNSHIP, UnitKind.TOWNSHIP, county)
        c.townships.append(t)
        c.names[t] = tname
        vnames = list(DEMO_TOWNSHIPS.get(tname, [])) if demo else []
        target = rng.randint(8, 20)
        while len(vnames) < target:
            candidate = f"{rng.choice(VILLAGE_WORDS)}{rng.choice(TOWN_WORDS)}村"
            if candidate not in vnames:
                vnames.append(candidate)
        c.villages[t] = []
        for vname in vnames:
            v = unit(vname, Level.VILLAGE, UnitKind.VILLAGE, t)
            c.villages[t].append(v)
            c.names[v] = vname
    p = "" if demo else f"k{index}_"
    c.users["clerk"] = person(f"{p}clerk", f"{name}经办人", office, Role.CLERK)
    c.users["approver"] = person(f"{p}approver", f"{name}分管领导", office, Role.APPROVER)
    c.users["chief"] = person(f"{p}chief", f"{name}主要领导", county, Role.CHIEF)
    c.users["inspector"] = person(f"{p}inspector", f"{name}督查", office, Role.INSPECTOR)
    c.users["discipline"] = person(f"{p}discipline", f"{name}纪检", discipline, Role.DISCIPLINE)
    for i, t in enumerate(c.townships):
        key = "township" if i == 0 else f"township{i}"
        c.handlers[t] = c.users[key] = person(f"{p}{key}", f"{c.names[t]}经办人", t,
                                              Role.UNIT_HANDLER)
    for i, b in enumerate(bureaus):
        key = "bureau" if i == 1 else f"bureau{i}"  # the demo's bureau user is 民政局's
        c.handlers[b] = c.users[key] = person(f"{p}{key}", f"局经办人{i}", b, Role.UNIT_HANDLER)
    return c
