"""L4 — 省级交办信访事项办理情况统计表 (seed 001 附件4), read back with openpyxl: title, the
填报单位 / 联系电话 block, the two-row header and its merges, print setup, values, masking, audit,
the permission door, and a flat query count."""

import io
from datetime import datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from tests.api.world import walk
from tests.conftest import sh
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.models import Clock
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import DemandInput, perform
from xinfang.reports.l4 import CATEGORIES, HANDLING, write_ledger_l4
from xinfang.rules.deadlines import SHANGHAI, deadline_text

pytestmark = pytest.mark.django_db


def provincial(j, **kw):
    kw.setdefault("source_level", c.SourceLevel.PROVINCE)
    kw.setdefault("source_office", "河南省乡村振兴局")
    kw.setdefault("channel", c.Channel.REFERRAL)
    return kw


def export(by, qs=None, **kw) -> tuple:
    out = io.BytesIO()
    done = write_ledger_l4(out, qs if qs is not None else cases_for(by), by=by, **kw)
    out.seek(0)
    return done, load_workbook(out)


def test_l4_layout_title_block_header_merges_and_print_setup(jianan):
    j = jianan
    case = walk(j, "in_progress", **provincial(j, key_case=True, demands=[
        DemandInput(text="要求落实危房改造补助", category="危房改造"),
        DemandInput(text="要求纳入监测", category="防返贫监测")]))
    case = perform("record_finding", case=case, by=j.member("township"),
                   expected_version=case.version,
                   findings={1: ("true", "solved", "已发放"), 2: ("false", "explained", "不符合")})
    case = walk(j, "delivered", case=case)
    perform("record_rating", case=case, by=j.member("clerk"), rating="unsatisfied")
    walk(j, "registered")  # a county's own case: not provincial, not in L4
    done, book = export(j.member("clerk"), period_label="2026年第38周")
    ws = book.active
    assert done.rows == 1
    assert ws["A1"].value == "省级交办信访事项办理情况统计表（2026年第38周）"
    assert ws["A2"].value.startswith("填报单位：建安区") and ws["O2"].value.startswith("联系电话：")
    top = [ws.cell(3, col).value for col in range(1, 30)]
    sub = [ws.cell(4, col).value for col in range(1, 30)]
    assert top[:5] == ["序号", "接待日期", "信访渠道", "信访人信息及反映事项内容摘要", "问题属地"]
    assert top[6:8] == ["是否脱贫（监测）户", "问题类别"]
    assert top[19:22] == ["是否重点交办", "办结时限", "省辖市、县（市、区）办理情况"]
    assert sub[4:6] == ["省辖市", "县（市、区）"]
    assert tuple(sub[7:19]) == CATEGORIES and tuple(sub[21:29]) == HANDLING
    merges = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:AC1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:F3", "G3:G4", "H3:S3", "T3:T4",
            "U3:U4", "V3:AC3"} <= merges
    assert ws.freeze_panes == "A5"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$3:$4"
    # fitToWidth left out means 1 (its OOXML default); fitToHeight 0 means "as many as it takes"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["D"].width > 40
    row = [ws.cell(5, col).value for col in range(1, 30)]
    assert row[0] == 1 and row[1].date() == sh(2026, 9, 14).date()
    assert "河南省乡村振兴局" in row[2]
    assert "张*明" in row[3] and "张三明" not in row[3] and "138****5678" in row[3]
    assert row[4] == "许昌市" and row[5] == "建安区"
    assert row[6] == "脱贫户"
    marked = {CATEGORIES[i] for i, v in enumerate(row[7:19]) if v == "√"}
    assert marked == {"危房改造", "精准识别"}
    assert row[19] == "是"
    # 办结时限: the handling deadline, counted over 2027's 春节 before 2027's notice is loaded
    handling = case.clocks.get(name="handling")
    assert handling.provisional
    assert row[20] == f"{deadline_text(handling.due_at)}（暂定）" == "2027-02-08 24时（暂定）"
    assert row[21] == "将官池镇" and row[22] is None  # no contact logged
    assert row[23] is not None  # the decision letter's delivery
    assert row[24] == "部分属实" and row[25] == "不满意"
    assert ws.cell(6, 1).value.startswith("注：1.")
    assert "复查复核" in ws.cell(7, 1).value
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.object_id == "L4" and entry.detail["cases"] == [case.number]


def test_l4_unmasked_needs_a_reason_and_reveals_only_for_the_office(jianan):
    from xinfang.cases.errors import Refused

    j = jianan
    walk(j, "assigned", **provincial(j))
    with pytest.raises(Refused):
        export(j.member("clerk"), unmasked=True)
    done, book = export(j.member("clerk"), unmasked=True, reason="报送市乡村振兴局")
    assert "张三明" in book.active["D5"].value and done.revealed_rows == 1
    # a township handling the case exports masked even when it asks for clear names
    done, book = export(j.member("township"), unmasked=True, reason="核对")
    assert "张三明" not in book.active["D5"].value and done.revealed_rows == 0


def test_l4_follows_the_permission_door(jianan):
    j = jianan
    walk(j, "assigned", **provincial(j))  # to 将官池镇
    walk(j, "assigned", lead="区民政局", lead_member="bureau", assisting=(), **provincial(j))
    assert export(j.member("clerk"))[0].rows == 2
    assert export(j.member("township"))[0].rows == 1
    # a caller passing every case cannot widen the township's table
    from xinfang.cases.models import Case

    assert export(j.member("township"), Case.objects.all())[0].rows == 1


def test_l4_query_count_is_flat(jianan, django_assert_max_num_queries):
    j = jianan
    walk(j, "delivered", **provincial(j))
    with django_assert_max_num_queries(40) as one:
        export(j.member("clerk"))
    for _ in range(4):
        walk(j, "delivered", **provincial(j))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert export(j.member("clerk"))[0].rows == 5


def test_l4_reads_the_places_with_the_rows_not_per_jurisdiction(
        jianan, jurisdiction, django_assert_max_num_queries):
    """A city's or a province's L4 names each case's 省辖市 and 县 from its jurisdiction's path:
    the units a chunk of rows brings are read with it, not once for each new jurisdiction (a
    province's weekly batch asked 59 statements for them)."""
    j = jianan
    walk(j, "delivered", **provincial(j))
    city = j.member("city_clerk")
    with django_assert_max_num_queries(40) as one:
        export(city)
    others = [jurisdiction(code) for code in ("kaijiang", "lihai", "datonghu")]
    for other in others:
        walk(other, "registered", **provincial(other))
    with django_assert_max_num_queries(len(one.captured_queries)):
        done, book = export(city)
    assert done.rows == 4
    ws = book.active
    places = {(ws.cell(r, 5).value, ws.cell(r, 6).value) for r in range(5, 9)}
    assert places == {("许昌市", name) for name in ("建安区", "开江县", "沥海街道", "大通湖区")}


def test_l4_exports_a_case_that_has_a_review(jianan):
    """A review is a case of its own whose ``review_of`` is the original: the chunk's reviews
    are grouped by that, not by a ``case_id`` a case does not have (this raised on real data)."""
    j = jianan
    case = walk(j, "delivered", **provincial(j))
    case = perform("report_back", case=case, by=j.member("clerk"),
                   expected_version=case.version, note="已报省乡村振兴局")
    case = walk(j, "archived", case=case)
    perform("open_review", case=case, by=j.member("city_clerk"), expected_version=case.version,
            received_at=sh(2026, 10, 20, 9), reason="对处理意见不服", clerk=j.member("city_clerk"))
    assert case.reviews.count() == 1
    assert export(j.member("clerk"))[0].rows == 1


def test_l4_longer_than_one_sheet_is_refused_not_cut_short(jianan, monkeypatch):
    # given two provincial referrals and a sheet that holds one of them with the footnotes
    from xinfang.cases.errors import Refused
    from xinfang.reports import l4

    j = jianan
    walk(j, "assigned", **provincial(j))
    walk(j, "assigned", lead="区民政局", lead_member="bureau", assisting=(), **provincial(j))
    audited = AuditEntry.objects.count()
    monkeypatch.setattr(l4, "SHEET_ROWS", l4.FIRST_DATA + 1 + len(l4.FOOTNOTES))
    # then the table is refused, naming the filters, and nothing is audited
    with pytest.raises(Refused) as refused:
        export(j.member("clerk"))
    assert refused.value.field == "filters" and "写满 1 行后" in refused.value.message
    assert AuditEntry.objects.count() == audited
    # and one row more holds both
    monkeypatch.setattr(l4, "SHEET_ROWS", l4.FIRST_DATA + 2 + len(l4.FOOTNOTES))
    assert export(j.member("clerk"))[0].rows == 2


def test_l4_deadline_is_its_last_day_not_the_midnight_after_it(jianan):
    # given a provincial case whose handling deadline is settled: the end of a day
    j = jianan
    case = walk(j, "delivered", **provincial(j))
    handling = case.clocks.get(name="handling")
    Clock.objects.filter(pk=handling.pk).update(provisional=False)
    end = handling.due_at.astimezone(SHANGHAI)
    assert end.time() == time(0)
    # when the clerk exports L4
    _done, book = export(j.member("clerk"))
    # then 办结时限 is that last day, a date cell ("2027-02-08", not "2027-02-09 00:00")
    cell = book.active.cell(5, 21)
    assert cell.value == datetime.combine(end.date() - timedelta(days=1), time(0))
    assert cell.number_format == "yyyy-mm-dd"
