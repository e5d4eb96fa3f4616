"""Monthly meetings (seed 001 §四(一) 隐患分析排查会议 by each township; 002 §三 月度调度会 by the
office; 004 §二(一) 每周一会商 by each base unit): attendees, the cases and screening findings
discussed, the measures; a township that misses its month is flagged — in its inbox and on the
supervision page — and counted for the scorecard."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import sh
from tests.web.conftest import signed_in, walk
from xinfang.notify.models import Notice
from xinfang.notify.selectors import inbox
from xinfang.practices.models import Meeting
from xinfang.practices.reading import meeting_status, practice_counts
from xinfang.practices.services import Invalid, Refused, meeting_record
from xinfang.practices.sweep import sweep
from xinfang.registers.services import Finding, screening_record

pytestmark = pytest.mark.django_db


def finding(j, by):
    return screening_record(
        by=by,
        finding=Finding(
            screened_on=date(2026, 10, 12),
            township=j.townships["将官池镇"],
            village=j.villages.get("岗朱村"),
            person_name="周大勇",
            contact="13700001111",
            problem="反映产业帮扶资金分配不公",
            category="资金项目",
        ),
    )


def meet(by, held_on=date(2026, 10, 20), **extra):
    args = dict(
        by=by,
        rule="hazard_screening",
        held_on=held_on,
        chaired_by="刘海",
        attendees="镇信访办、各村支书",
        measures="逐户走访，月底前反馈",
        now=sh(2026, 10, 21, 9),
    )
    args.update(extra)
    return meeting_record(**args)


def test_a_township_records_its_monthly_screening_meeting_with_cases_and_findings(jianan, fresh):
    j = jianan
    township = j.member("township_head")
    case, f = walk(j, fresh(), "assigned"), finding(j, j.member("township"))
    m = meet(township, case_ids=[case.pk], finding_ids=[f.pk])
    assert (m.unit, m.period, m.label) == (
        j.townships["将官池镇"],
        "2026-10",
        "信访舆情隐患分析排查会议",
    )
    assert list(m.cases.all()) == [case] and list(m.findings.all()) == [f]
    with pytest.raises(Invalid) as e:
        meet(township, rule="monthly_dispatch")  # kaijiang's, not jianan's
    assert set(e.value.errors) == {"rule"}
    with pytest.raises(Invalid) as e:
        meet(township, held_on=date(2026, 10, 25))
    assert set(e.value.errors) == {"held_on"}
    with pytest.raises(Refused):
        meet(j.member("inspector"))
    with pytest.raises(Refused, match="不召开"):
        meet(j.member("bureau"))  # a bureau is no township


def test_a_case_the_unit_cannot_see_is_refused(jianan, fresh):
    j = jianan
    case = fresh()
    with pytest.raises(Invalid) as e:
        meet(j.member("township_head"), case_ids=[case.pk])  # registered, never assigned to it
    assert set(e.value.errors) == {"cases"}


def test_a_township_that_misses_its_month_is_flagged_once_and_counted(jianan):
    j = jianan
    meet(j.member("township_head"), held_on=date(2026, 10, 20))
    status = meeting_status(j.county, date(2026, 11, 3))
    assert [u.name for u in status[0].missed] == [n for n in sorted(j.townships) if n != "将官池镇"]
    first = sweep(at=sh(2026, 11, 3, 8))
    assert first.flagged["meeting"] == len(j.townships) - 1
    assert sweep(at=sh(2026, 11, 3, 9)).flagged.get("meeting") is None
    other = j.townships["椹涧乡"]
    notice = Notice.objects.get(kind="meeting", unit=other)
    assert notice.case_id is None and "2026年10月" in notice.text and notice.link
    assert [n for n in inbox(j.member("township")) if n.kind == "meeting"] == []
    counts = practice_counts(j.county)
    assert counts[other.pk]["missed_meeting"] == 1
    assert counts[j.townships["将官池镇"].pk]["meetings"] == 1


def test_the_supervision_page_names_the_township_that_missed_its_month(jianan):
    j = jianan
    page = signed_in(j.member("approver")).get(reverse("web:supervision")).content.decode()
    assert 'id="practices"' in page and 'id="missed-meetings"' in page
    assert "信访舆情隐患分析排查会议" in page and "椹涧乡" in page


def test_kaijiang_holds_its_dispatch_meeting_at_the_office(jurisdiction):
    k = jurisdiction("kaijiang")
    m = meeting_record(
        by=k.member("clerk"),
        rule="monthly_dispatch",
        held_on=date(2026, 10, 9),
        chaired_by="办公室主任",
        attendees="领导小组成员",
        measures="部署下月工作",
        now=sh(2026, 10, 10, 9),
    )
    assert m.unit == k.county
    quarterly = meeting_record(
        by=k.member("clerk"),
        rule="quarterly_analysis",
        held_on=date(2026, 10, 9),
        chaired_by="主任",
        attendees="股室负责人",
        measures="分析共性问题",
        now=sh(2026, 10, 10, 9),
    )
    assert quarterly.period == "2026-Q4"
    rules = {st.rule.name: st for st in meeting_status(k.county, date(2026, 11, 2))}
    assert rules["monthly_dispatch"].missed == [] and rules["quarterly_analysis"].period.code == (
        "2026-Q3"
    )


def test_lihai_base_units_consult_weekly(jurisdiction):
    li = jurisdiction("lihai")
    rules = {st.rule.name: st for st in meeting_status(li.county, date(2026, 11, 2))}
    assert rules["weekly_consultation"].period.kind == "week"
    m = meeting_record(
        by=li.member("township_head"),
        rule="weekly_consultation",
        held_on=date(2026, 11, 2),
        chaired_by="刘海",
        attendees="村两委",
        measures="分解化解责任",
        now=sh(2026, 11, 2, 18),
    )
    assert m.period == "2026-W45"


def test_meetings_page_records_and_lists_in_a_flat_number_of_queries(jianan, fresh):
    j = jianan
    client = signed_in(j.member("township_head"))
    response = client.post(
        reverse("practices:meetings"),
        {
            "rule": "hazard_screening",
            "held_on": "2026-10-20",
            "chaired_by": "刘海",
            "attendees": "各村支书",
            "measures": "逐户走访",
            "case_numbers": "不存在的编号",
        },
    )
    assert response.status_code == 400 and "case_numbers_error" in response.content.decode()
    response = client.post(
        reverse("practices:meetings"),
        {
            "rule": "hazard_screening",
            "held_on": "2026-10-20",
            "chaired_by": "刘海",
            "attendees": "各村支书",
            "measures": "逐户走访",
        },
    )
    assert response.status_code == 302 and Meeting.objects.count() == 1
    client.get(reverse("practices:meetings"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("practices:meetings"))
    for day in range(1, 12):
        meet(j.member("township_head"), held_on=date(2026, 10, day))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("practices:meetings"))
    assert len(many) == len(few)
    api = client.get(reverse("practices_api:meetings")).json()
    assert api["count"] == 12
    status = client.get(reverse("practices_api:meeting-status")).json()
    assert status[0]["rule"] == "hazard_screening"


def test_the_scorecard_export_has_the_practices_sheet(jianan):
    import io

    from openpyxl import load_workbook

    from xinfang.reports.services import report_build, report_period

    j = jianan
    meet(j.member("township_head"), held_on=date(2026, 10, 20))
    sweep(at=sh(2026, 11, 3, 8))  # September was missed by every township
    built = report_build(kind="scorecard", period=report_period("scorecard", "2026-Q4"),
                         by=j.member("chief"), via="test")
    with built.file as fh:
        book = load_workbook(io.BytesIO(fh.read()))
    ws = book["工作机制"]
    header = [c.value for c in ws[2]]
    assert header[:4] == ["单位", "回访件数", "满意和基本满意", "召开会议次数"]
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=3)}
    assert rows["将官池镇"][3] == 1
    assert rows["椹涧乡"][header.index("未按期召开会议")] == 1


def test_the_practices_sweep_runs_on_the_schedule(jianan):
    from django.conf import settings
    from django.utils.module_loading import import_string

    path, every = settings.XINFANG_PERIODIC["practices"]
    result = import_string(path)()
    assert every <= 3600 and isinstance(result, dict)
