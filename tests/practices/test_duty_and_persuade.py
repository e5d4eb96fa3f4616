"""The reception roster (seed 004 §二(六) 周一至周五当天的带班领导), the leader who received a
5-person visit in person (004 §一(三), recorded as a face-to-face contact by an earlier session),
the cadres' village visits (001 §四(四) 每周二扶贫日下访), and persuade-to-return (004 §二(五))."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from tests.conftest import register_in, sh
from tests.web.conftest import signed_in
from xinfang.cases import choices as c
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import DemandInput, perform
from xinfang.notify.models import Notice
from xinfang.practices.models import DutySlot, FieldVisit, PersuadeReturn
from xinfang.practices.reading import duty_receptions
from xinfang.practices.services import (
    Invalid,
    Refused,
    duty_assign,
    field_visit_record,
    persuade_follow_up,
    persuade_form,
    persuade_returned,
)
from xinfang.practices.sweep import sweep
from xinfang.rules.profile import shipped_profiles

pytestmark = pytest.mark.django_db

GROUP = [
    {"role": "area_chief", "name": "钱片长"},
    {"role": "area_team", "name": "孙组长"},
    {"role": "village_cadre", "name": "李支书"},
    {"role": "line_office", "name": "周干部"},
    {"role": "police", "name": "吴民警"},
]


def lihai_case(j, **extra):
    category = shipped_profiles()["lihai"].categories[0]
    return register_in(j, demands=[DemandInput(text="要求落实帮扶", category=category)], **extra)


def test_visits_are_linked_to_the_leader_on_duty_and_the_leader_who_received_them(jurisdiction):
    li = jurisdiction("lihai")
    clerk, approver, chief = li.member("clerk"), li.member("approver"), li.member("chief")
    monday = duty_assign(
        by=clerk,
        weekday=0,
        leader_id=approver.pk,
        starts_on=date(2026, 9, 1),
        now=sh(2026, 9, 1, 9),
    )
    with pytest.raises(Invalid) as e:  # lihai receives Monday to Friday only
        duty_assign(by=clerk, weekday=5, leader_id=chief.pk, starts_on=date(2026, 9, 1))
    assert set(e.value.errors) == {"weekday"}
    with pytest.raises(Invalid) as e:
        duty_assign(
            by=clerk, weekday=1, leader_id=li.member("township").pk, starts_on=date(2026, 9, 1)
        )
    assert set(e.value.errors) == {"leader"}
    with pytest.raises(Refused):
        duty_assign(
            by=li.member("township"), weekday=1, leader_id=chief.pk, starts_on=date(2026, 9, 1)
        )
    # five people on Monday 14 September: the approver on duty receives them in person
    group = lihai_case(li, headcount=5)
    perform(
        "log_contact",
        case=group,
        by=approver,
        kind="meeting",
        note="同步出面接待",
        contacted_at=sh(2026, 9, 14, 10),
    )
    # the roster changes from 21 September: the old slot ends, nothing is deleted
    duty_assign(
        by=clerk, weekday=0, leader_id=chief.pk, starts_on=date(2026, 9, 21), now=sh(2026, 9, 18, 9)
    )
    monday.refresh_from_db()
    assert monday.ends_on == date(2026, 9, 20) and DutySlot.objects.count() == 2
    later = lihai_case(li, at=sh(2026, 9, 21, 10), received_at=sh(2026, 9, 21, 9, 30))
    rows = duty_receptions(clerk, li.county, sh(2026, 9, 14, 0), sh(2026, 9, 28, 0))
    found = {r.case.pk: r for r in rows}
    assert found[group.pk].on_duty == approver and found[group.pk].in_person == "王建国"
    assert found[later.pk].on_duty == chief and found[later.pk].in_person == ""


def test_a_field_visit_on_tuesday_is_a_poverty_day_visit_with_the_cases_carried(jianan, fresh):
    j = jianan
    from tests.web.conftest import walk

    case = walk(j, fresh(), "assigned")
    township = j.member("township")
    visit = field_visit_record(
        by=township,
        village_id=j.villages["岗朱村"].pk,
        visited_on=date(2026, 10, 13),
        note="带件下访，现场阅签",
        case_ids=[case.pk],
        now=sh(2026, 10, 13, 18),
    )
    assert visit.on_poverty_day and list(visit.cases.all()) == [case]
    other = field_visit_record(
        by=township,
        village_id=j.villages["岗朱村"].pk,
        visited_on=date(2026, 10, 14),
        note="回访",
        now=sh(2026, 10, 14, 18),
    )
    assert not other.on_poverty_day
    with pytest.raises(Invalid) as e:
        field_visit_record(
            by=j.member("bureau"),
            village_id=j.villages["岗朱村"].pk,
            visited_on=date(2026, 10, 14),
            note="x",
        )
    assert set(e.value.errors) == {"village"}  # not a village of the bureau's own


def test_persuade_to_return_group_return_and_follow_up(jurisdiction):
    li = jurisdiction("lihai")
    clerk = li.member("clerk")
    case = lihai_case(li, level_skipping=True)
    with pytest.raises(Invalid, match="派出所民警") as e:
        persuade_form(
            by=clerk,
            case_id=case.pk,
            level="province",
            place="省信访局",
            reported_at=sh(2026, 10, 10, 9),
            members=GROUP[:4],
            now=sh(2026, 10, 10, 10),
        )
    assert set(e.value.errors) == {"members"}
    row = persuade_form(
        by=clerk,
        case_id=case.pk,
        level="province",
        place="省信访局",
        reported_at=sh(2026, 10, 10, 9),
        members=GROUP,
        now=sh(2026, 10, 10, 10),
    )
    with pytest.raises(Refused, match="先记录劝返回"):
        persuade_follow_up(
            by=clerk,
            persuade_id=row.pk,
            kind="talk",
            at=sh(2026, 10, 10, 11),
            note="x",
            now=sh(2026, 10, 10, 11),
        )
    row = persuade_returned(
        by=clerk,
        persuade_id=row.pk,
        returned_at=sh(2026, 10, 11, 18),
        note="已劝返",
        now=sh(2026, 10, 11, 19),
    )
    # lihai: 第一时间 — one day (to the end of the next day, as every "days" clock)
    assert row.follow_up_due == sh(2026, 10, 13, 0)
    assert sweep(at=sh(2026, 10, 12, 23)).flagged.get("persuade") is None
    assert sweep(at=sh(2026, 10, 13, 1)).flagged["persuade"] == 1
    notice = Notice.objects.get(kind="persuade")
    assert notice.case_id == case.pk and notice.unit == li.county
    persuade_follow_up(
        by=clerk,
        persuade_id=row.pk,
        kind="legal_talk",
        at=sh(2026, 10, 13, 8),
        note="片长会同派出所法制谈话",
        now=sh(2026, 10, 13, 9),
    )
    types = list(
        CaseEvent.objects.filter(case=case, type__startswith="persuade").values_list(
            "type", flat=True
        )
    )
    assert types == ["persuade_formed", "persuade_returned", "persuade_followed_up"]
    assert "吴民警" in CaseEvent.objects.get(case=case, type="persuade_formed").payload["members"]


def test_duty_and_persuade_pages_and_api(jurisdiction):
    li = jurisdiction("lihai")
    clerk = signed_in(li.member("clerk"))
    r = clerk.post(
        reverse("practices:duty"),
        {
            "action": "duty",
            "d-weekday": "2",
            "d-leader": li.member("chief").pk,
            "d-starts_on": "2026-09-01",
        },
    )
    assert r.status_code == 302 and DutySlot.objects.get().weekday == 2
    page = clerk.get(reverse("practices:duty")).content.decode()
    assert 'id="roster-table"' in page and "张志强" in page and "周三" in page
    api = clerk.get(reverse("practices_api:duty")).json()
    assert api[0]["leader"] == "张志强"
    assert clerk.get(reverse("practices_api:receptions")).status_code == 200
    case = lihai_case(li)
    r = clerk.post(
        reverse("practices:persuades"),
        {
            "case_number": case.number,
            "level": "city",
            "place": "市信访局",
            "reported_at": "2026-10-10T09:00",
            **{f"m_{m['role']}": m["name"] for m in GROUP},
        },
    )
    assert r.status_code == 302, r.content.decode()
    row = PersuadeReturn.objects.get()
    detail = reverse("practices:persuade", args=[row.pk])
    assert (
        clerk.post(
            detail, {"action": "returned", "r-returned_at": "2026-10-10T18:00", "r-note": "已返回"}
        ).status_code
        == 302
    )
    api = clerk.post(
        reverse("practices_api:persuade-follow-up", args=[row.pk]),
        {"follow_up_kind": "appointment", "at": "2026-10-10T20:00:00+08:00", "note": "约访"},
        content_type="application/json",
    )
    assert api.status_code == 201 and api.json()["follow_up_kind"] == "appointment"
    assert (
        signed_in(li.member("township")).post(reverse("practices:persuades"), {}).status_code == 403
    )
    created = clerk.post(
        reverse("practices_api:persuades"),
        {
            "case": case.pk,
            "level": "national",
            "place": "国家信访局",
            "reported_at": "2026-10-20T09:00:00+08:00",
            "members": GROUP[:1],
        },
        content_type="application/json",
    )
    assert created.status_code == 400 and "members" in created.json()["errors"]


def test_field_visits_page_and_api(jianan):
    j = jianan
    township = signed_in(j.member("township"))
    r = township.post(
        reverse("practices:duty"),
        {
            "action": "visit",
            "v-village": j.villages["岗朱村"].pk,
            "v-visited_on": "2026-10-13",
            "v-note": "下访",
        },
    )
    assert r.status_code == 302 and FieldVisit.objects.get().on_poverty_day
    assert "扶贫日" in township.get(reverse("practices:duty")).content.decode()
    api = township.post(
        reverse("practices_api:field-visits"),
        {
            "village": j.villages["岗朱村"].pk,
            "visited_on": str(date.today() - timedelta(days=1)),
            "note": "回访",
        },
        content_type="application/json",
    )
    assert api.status_code == 201
    assert township.get(reverse("practices_api:field-visits")).json()["count"] == 2
    assert c.Channel.VISIT == "visit"


def test_the_weeks_visits_are_the_template_they_replaced():
    """The duty page's visits of the week written in Python (``receptions_html``) are what its
    template's loop (kept under ``tests/web/oracles/``) wrote: a leader on duty or none, a
    leader met in person or none, values that need escaping, times in the office's zone."""
    import re
    from pathlib import Path

    from django.template import Context, Template

    from xinfang.cases.models import Case
    from xinfang.org.models import Membership, User
    from xinfang.practices.reading import Reception
    from xinfang.practices.views import receptions_html

    bad = '<b x="1">&\'</b>'
    leader = Membership(user=User(full_name=f"王{bad}"))
    rows = [
        Reception(Case(pk=5, number=f"N{bad}", received_at=sh(2026, 11, 30, 23, 59),
                       headcount=6), leader, f"李{bad}"),
        Reception(Case(pk=6, number="N-2", received_at=sh(2026, 12, 1, 8, 0), headcount=1),
                  None, ""),
        Reception(Case(pk=7, number="N-3", received_at=sh(2026, 12, 1, 9, 0), headcount=2),
                  Membership(user=User(full_name="")), ""),
    ]

    def norm(text) -> str:
        return re.sub(r" ?([<>]) ?", r"\1", re.sub(r"\s+", " ", str(text))).strip()

    oracle = Path(__file__).parent.parent / "web" / "oracles" / "receptions.html"
    want = Template(oracle.read_text("utf-8")).render(Context({"receptions": rows}))
    got = receptions_html(rows)
    assert norm(got) == norm(want)
    assert "<b x" not in got and "2026-11-30 23:59" in got
