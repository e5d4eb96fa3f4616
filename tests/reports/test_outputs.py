"""A test per periodic output for a seeded period, each read back: the monthly bulletin and the
quarterly analysis with python-docx (headings, tables, chart images), the scorecard with openpyxl,
the weekly batch as a ZIP (L4 plus one folder per case). Plus the command line, the audit entry,
and a township seeing only its own cases."""

import io
import zipfile
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from docx import Document as Docx
from openpyxl import load_workbook

from tests.api.world import walk
from tests.conftest import id_number, register_in, sh
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services import DemandInput, PetitionerInput, perform
from xinfang.oversight.services import order_issue, proxy_take
from xinfang.reports.charts import cjk_font
from xinfang.reports.periods import containing, parse
from xinfang.reports.services import report_build, report_period

pytestmark = pytest.mark.django_db


def build(kind, text, by):
    built = report_build(kind=kind, period=report_period(kind, text), by=by, via="test")
    with built.file as f:
        return built, f.read()


def docx_of(data: bytes):
    doc = Docx(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in doc.tables]
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    return headings, text, tables, images


NAMES = ("李四海", "王五福", "赵六顺", "钱七宝", "孙八达")


def person(i: int) -> list[PetitionerInput]:
    """A petitioner of their own (a second petition by the same person is a repeat)."""
    return [PetitionerInput(name=NAMES[i], id_number=id_number(f"41102319800101{i + 200:03d}"),
                            phone=f"1391234{i:04d}", address=f"将官池镇岗朱村{i}组")]


def seed(j):
    """September 2026 in 建安区: a repeat (its first petition in August) and a collective
    petition in 将官池镇, a level-skipping one in 五女店镇, and one ordinary."""
    register_in(j, petitioners=person(0), received_at=sh(2026, 8, 3, 9, 0),
                at=sh(2026, 8, 3, 10, 0))
    a = register_in(j, petitioners=person(0))
    b = register_in(j, petitioners=person(1), headcount=6,
                    demands=[DemandInput(text="要求报销", category="医疗保障")])
    d = register_in(j, petitioners=person(2), level_skipping=True,
                    township=j.townships["五女店镇"], village=j.villages["魏庄村"])
    e = register_in(j, petitioners=person(3))
    assert (a.repeat_count, b.collective, d.level_skipping) == (1, True, True)
    return a, b, d, e


def test_monthly_bulletin(jianan):
    j = jianan
    a, b, d, e = seed(j)
    built, data = build("monthly", "2026-09", j.member("approver"))
    headings, text, tables, _ = docx_of(data)
    assert headings[0] == "建安区越级访、集体访、重复访通报"
    assert headings[1:] == ["一、总体情况", "二、分乡镇（街道）情况", "三、信访事项清单"]
    assert "本月共收到信访件4件，其中重复访1件（涉及1个信访事项）、越级访1件、集体访1件" in text
    summary = tables[0]
    assert summary[1][:4] == ["重复访", "1", "0", "上期为0"]
    assert summary[4][:3] == ["合计（去重）", "3", "0"]
    towns = {row[0]: row for row in tables[1][1:]}
    assert towns["将官池镇"][1:] == ["1", "0", "1", "2"]
    assert towns["五女店镇"][1:] == ["0", "1", "0", "1"]
    listed = [row[1] for row in tables[2][1:]]
    assert listed == [a.number, b.number, d.number] and e.number not in text
    assert [row[2] for row in tables[2][1:]] == ["李*海", "王*福", "赵*顺"]  # masked
    assert not any(name in text or name in str(tables) for name in NAMES)
    entry = AuditEntry.objects.filter(object_type="report").latest("id")
    assert entry.object_id == "monthly" and entry.detail["period"] == "2026-09"
    assert entry.detail["cases"] == listed


def test_quarterly_analysis_with_charts(jianan):
    j = jianan
    seed(j)
    found = walk(j, "in_progress")
    perform("record_finding", case=found, by=j.member("township"), expected_version=found.version,
            findings={1: ("true", "solved", "已发放")})
    built, data = build("quarterly", "2026-Q3", j.member("chief"))
    headings, text, tables, images = docx_of(data)
    assert headings[0] == "建安区信访问题2026年第3季度统计分析报告"
    for h in ("一、总体情况", "二、按问题类别", "三、按发生区域", "四、变化趋势", "五、共性和差异",
              "六、问题解决措施的有效性", "七、考核指标"):
        assert h in headings
    assert "本季度收到信访件6件" in text  # five in September + the walked one; August is Q3 too
    cats = {row[0]: row[1] for row in tables[0][1:]}
    assert cats == {"危房改造": "5", "医疗保障": "1"}
    assert len(images) == 3  # category, township, trend
    assert {row[0]: row[1] for row in tables[1][1:]}["将官池镇"] == "5"
    trend = dict((row[0], row[1]) for row in tables[3][1:])
    assert trend["2026年8月"] == "1" and trend["2026年9月"] == "5" and len(trend) == 12
    measures = [t for t in tables if t[0][0] == "措施（三到位一处理）"][0]
    assert measures[1][:2] == ["诉求合理的解决到位", "1"]
    assert "反映最集中的问题类别：危房改造5件" in text
    # where each of the biggest categories gathers, read for those categories alone
    assert "“危房改造”类涉及2个乡镇（街道），最多的是将官池镇（4件），较为集中。" in text
    assert "“医疗保障”类涉及1个乡镇（街道），最多的是将官池镇（1件），较为集中。" in text
    assert bool(cjk_font().path) == ("未找到中文字体" not in text)


def test_the_townships_of_some_categories_are_those_of_all_categories_for_them(jianan):
    from xinfang.cases.models import Case
    from xinfang.reports.selectors import category_by_township

    seed(jianan)
    cases = Case.objects.filter(jurisdiction=jianan.county)
    every = category_by_township(cases)
    assert set(every) == {"危房改造", "医疗保障"}
    assert category_by_township(cases, ["危房改造"]) == {"危房改造": every["危房改造"]}
    assert category_by_township(cases, ["医疗保障", "社会救助"]) == {"医疗保障": every["医疗保障"]}


def signed(j, **kw):
    """A lihai case past the chief's countersignature (交办签), ready to assign."""
    case = walk(j, "signed_off", **kw)
    if case.state == c.State.AWAITING_COUNTERSIGN:
        case = perform("countersign", case=case, by=j.member("chief"), note="同意交办")
    return case


def test_scorecard_reads_the_profiles_targets(jurisdiction):
    j = jurisdiction("lihai")
    done = walk(j, "delivered", case=signed(j, petitioners=person(0)))
    # issue 17: the proxy rates count the cases marked as proxied (004 §二(三))
    proxy_take(by=j.member("clerk"), case=done, agent=j.member("proxy"), helps=["全域代办"])
    perform("record_rating", case=done, by=j.member("clerk"), rating="satisfied")
    walk(j, "in_progress", case=signed(j, petitioners=person(1)), lead="区民政局",
         lead_member="bureau", assisting=())
    register_in(j, petitioners=person(2))  # not assigned
    order_issue(by=j.member("inspector"), unit=j.bureaus["区民政局"], matter="报送台账",
                due_on=date(2026, 9, 25), at=sh(2026, 9, 20, 9))
    built, data = build("scorecard", "2026-Q3", j.member("chief"))
    ws = load_workbook(io.BytesIO(data))["单位考评"]
    assert ws["A1"].value == "沥海街道信访工作单位考评表（2026年第3季度）"
    assert "线办、村（居）信访工作季考评" in ws["A2"].value  # the profile's periodic report
    assert ws["B3"].value == "代办率（目标≥50%）"
    assert ws["F3"].value == "代办件办结率（目标≥100%）"
    assert [ws.cell(4, col).value for col in range(2, 6)] == ["代办件数", "受理件数", "完成率",
                                                             "是否达标"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, col).value for col in range(2, 14)]
            for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}
    assert set(rows) >= {"将官池镇", "区民政局", "未交办", "合计"}
    assert rows["将官池镇"][0:4] == [1, 1, 1, "达标"]  # proxied 1 of 1 accepted
    satisfaction = rows["将官池镇"][8:12]
    assert satisfaction[:3] == [1, 1, 1] and satisfaction[3] == "达标"
    assert rows["将官池镇"][4:6] == [0, 1]  # the proxied case not yet closed
    assert rows["区民政局"][0:2] == [0, 1]  # not proxied: counts against the rate
    assert rows["合计"][1] == 2  # accepted overall
    notes = load_workbook(io.BytesIO(data))["指标说明"]
    assert notes["A2"].value == "代办率" and notes["B2"].value == "代办件数"
    sheet = load_workbook(io.BytesIO(data))["督办与审核"]
    lines = {sheet.cell(r, 1).value: [sheet.cell(r, col).value for col in range(2, 7)]
             for r in range(3, sheet.max_row + 1) if sheet.cell(r, 1).value}
    assert lines["区民政局"] == [1, 0, 0, 1, 0]  # unanswered past its due day
    assert lines["代办件数"][0] == 1


def test_weekly_batch_holds_l4_and_one_folder_per_case(jianan):
    j = jianan
    done = walk(j, "delivered", source_level=c.SourceLevel.PROVINCE,
                source_office="河南省乡村振兴局", channel=c.Channel.REFERRAL)
    done = perform("report_back", case=done, by=j.member("clerk"), note="已报送")
    done = walk(j, "closed", case=done)
    walk(j, "delivered", source_level=c.SourceLevel.PROVINCE)  # not yet completed
    walk(j, "closed")  # the county's own: not in the provincial batch
    week = containing("week", done.closed_at.astimezone(sh(2026, 1, 1).tzinfo).date())
    built, data = build("weekly", week.code, j.member("clerk"))
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    l4 = [n for n in names if n.endswith(".xlsx")]
    assert l4 == [f"省级交办信访事项办理情况统计表-{week.code}.xlsx"]
    ws = load_workbook(io.BytesIO(z.read(l4[0]))).active
    assert ws["A1"].value.startswith("省级交办信访事项办理情况统计表（")
    assert ws["A5"].value == 1 and ws["A6"].value.startswith("注：")
    folders = {n.split("/")[1] for n in names if n.startswith("一案一档/")}
    assert folders == {done.number}
    assert f"一案一档/{done.number}/manifest.json" in names
    for part in ("00-封面及卷内目录.docx", "history/办理记录.docx", "ledger/台账.json"):
        assert f"一案一档/{done.number}/{part}" in names
    note = z.read("说明.txt").decode()
    assert "周五上午10:00前" in note and "1 件" in note


def test_the_weekly_batch_reads_its_case_files_by_the_batch(jianan,
                                                          django_assert_max_num_queries):
    """Each case's folder (一案一档) shows its petitioners, documents, attachments, history and
    hand-over: read once for the batch, and a case's stored files in one statement, not five
    statements and one per document for every case (a province's week asked 453)."""
    from tests.documents.cases import issued
    from tests.documents.cases import walk as walk_issuing

    j = jianan
    clerk = j.member("clerk")

    def completed():
        done = walk_issuing(j, until="record_pledge", source_level=c.SourceLevel.PROVINCE,
                            source_office="河南省乡村振兴局", channel=c.Channel.REFERRAL)
        issued(done, "D1", "D2", by=clerk)
        done = perform("report_back", case=done, by=clerk, note="已报送")
        return perform("close", case=done, by=j.member("approver"), note="同意销号")

    first = completed()
    week = containing("week", first.closed_at.astimezone(sh(2026, 1, 1).tzinfo).date())
    with django_assert_max_num_queries(80) as one:
        build("weekly", week.code, clerk)
    more = [completed() for _ in range(3)]
    # the stored files, a statement a case: their contents are read a case at a time
    with django_assert_max_num_queries(len(one.captured_queries) + len(more)):
        _, data = build("weekly", week.code, clerk)
    z = zipfile.ZipFile(io.BytesIO(data))
    for case in [first, *more]:
        names = [n for n in z.namelist() if n.startswith(f"一案一档/{case.number}/documents/")]
        assert len(names) == 2 and any("-D1-" in n for n in names), names


def test_a_township_sees_only_its_own(jianan):
    j = jianan
    mine = walk(j, "assigned", level_skipping=True, petitioners=person(0))  # to 将官池镇
    other = walk(j, "assigned", lead="区民政局", lead_member="bureau", assisting=(),
                 level_skipping=True, petitioners=person(1))
    _, data = build("monthly", "2026-09", j.member("township"))
    _, text, tables, _ = docx_of(data)
    listed = [row[1] for row in tables[2][1:]]
    assert listed == [mine.number] and other.number not in text
    _, data = build("monthly", "2026-09", j.member("clerk"))
    assert [row[1] for row in docx_of(data)[2][2][1:]] == [mine.number, other.number]


def test_bad_periods_and_administrators_are_refused(jianan):
    with pytest.raises(Refused) as e:
        report_period("monthly", "2026-13")
    assert e.value.field == "period"
    with pytest.raises(Refused):
        report_period("monthly", "2026-Q3")  # a quarter is not a month
    with pytest.raises(Refused):
        report_period("yearly", "2026")
    assert report_period("scorecard", "2026").kind == "year"
    assert parse("week", "2026-W49").start.isoformat() == "2026-11-30"
    with pytest.raises(Refused):  # 三员分立: administrators read no cases
        report_build(kind="monthly", period=parse("month", "2026-09"),
                     by=jianan.member("sysadmin"))


def test_the_command_line(jianan, tmp_path):
    seed(jianan)
    out = tmp_path / "bulletin.docx"
    call_command("report", "monthly", "--period", "2026-09", "--out", str(out), "--as",
                 jianan.member("approver").user.username)
    assert docx_of(out.read_bytes())[0][0] == "建安区越级访、集体访、重复访通报"
    with pytest.raises(CommandError, match="--period"):
        call_command("report", "quarterly", "--period", "2026-09", "--out", str(out), "--as",
                     jianan.member("approver").user.username)
    with pytest.raises(CommandError, match="--as"):
        call_command("report", "monthly", "--period", "2026-09", "--out", str(out), "--as",
                     "nobody")
    l4 = tmp_path / "l4.xlsx"
    call_command("export_ledger", "l4", str(l4), "--as", jianan.member("clerk").user.username)
    assert load_workbook(l4).active["A1"].value == "省级交办信访事项办理情况统计表"


@pytest.mark.parametrize("kind,period", [("monthly", "2026-09"), ("quarterly", "2026-Q3"),
                                         ("scorecard", "2026-Q3")])
def test_report_query_counts_are_flat(jianan, kind, period, django_assert_max_num_queries):
    j = jianan
    walk(j, "assigned", petitioners=person(0), level_skipping=True)
    with django_assert_max_num_queries(60) as one:
        build(kind, period, j.member("approver"))
    for i in range(1, 5):
        walk(j, "assigned", petitioners=person(i), level_skipping=True,
             township=j.townships["五女店镇"], village=j.villages["魏庄村"],
             lead="区民政局", lead_member="bureau", assisting=())
    with django_assert_max_num_queries(len(one.captured_queries)):
        build(kind, period, j.member("approver"))


def test_without_a_cjk_font_the_charts_number_their_labels_and_say_why(jianan, monkeypatch,
                                                                       settings):
    from xinfang.reports import charts

    seed(jianan)
    settings.XINFANG_CJK_FONT = "/nonexistent/font.ttc"
    monkeypatch.setattr(charts, "CANDIDATES", ("/nonexistent/NotoSansCJK-Regular.ttc",))
    monkeypatch.setenv("PATH", "")  # no fc-list to ask
    charts.cjk_font.cache_clear()
    try:
        assert charts.cjk_font().path is None
        _, data = build("quarterly", "2026-Q3", jianan.member("chief"))
    finally:
        charts.cjk_font.cache_clear()
    headings, text, tables, images = docx_of(data)
    # three pictures in the text (two may share one image part: with numbered labels the
    # category and township charts of this seed draw the same picture)
    assert len(Docx(io.BytesIO(data)).inline_shapes) == 3
    assert "本机未找到中文字体" in text and "fonts-noto-cjk" in text
    assert tables[0][1][0] == "危房改造"  # the names stay in the table beside the chart


def test_a_citys_scorecard_tells_apart_units_of_one_name(jurisdiction):
    # given a case led by each of two counties' 区民政局 (every county has one of that name)
    jianan, lihai = jurisdiction("jianan"), jurisdiction("lihai")
    walk(jianan, "in_progress", lead="区民政局", lead_member="bureau", assisting=(),
         petitioners=person(0))
    walk(lihai, "in_progress", case=signed(lihai, petitioners=person(1)), lead="区民政局",
         lead_member="bureau", assisting=())
    # when the city's clerk builds the quarter's scorecard
    built, data = build("scorecard", "2026-Q3", jianan.member("city_clerk"))
    ws = load_workbook(io.BytesIO(data))["单位考评"]
    names = [ws.cell(r, 1).value for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value]
    # then each bureau's row names its county; a name of one unit stays as it is
    assert {"区民政局（建安区）", "区民政局（沥海街道）", "合计"} <= set(names), names
    assert "区民政局" not in names


def test_names_are_told_apart_by_their_parents_only_where_they_are_shared(jianan, jurisdiction):
    from xinfang.org.models import Unit, names_told_apart

    lihai = jurisdiction("lihai")
    ours, theirs = jianan.bureaus["区民政局"], lihai.bureaus["区民政局"]
    town = jianan.townships["将官池镇"]
    assert names_told_apart([ours.pk, theirs.pk, town.pk, None, 0]) == {
        ours.pk: "区民政局（建安区）", theirs.pk: "区民政局（沥海街道）", town.pk: "将官池镇"}
    assert names_told_apart([ours.pk]) == {ours.pk: "区民政局"}  # alone in the table
    root = Unit.objects.create(name="区民政局", level="province", kind="government")
    assert names_told_apart([ours.pk, root.pk])[root.pk] == "区民政局"  # no parent to name
    assert names_told_apart([]) == {}
