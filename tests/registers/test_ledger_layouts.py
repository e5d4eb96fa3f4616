"""L0–L3 exports read back with openpyxl: title, the 填报单位/联系电话 block, header text and its
merged cells, footnotes, print setup (A4 landscape, fitted to the page width, header rows
repeated), values; masked by default and in clear only for the office with a reason; rows from
the permission door and the page's filters; query counts flat over 1 vs many rows; audited; over
the API and the command."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.api.world import client_as
from tests.conftest import register_in
from xinfang.audit.models import AuditEntry
from xinfang.ledgers.exports import LEDGERS, ledger_bytes
from xinfang.ledgers.layouts import L0, L1, L2, L3
from xinfang.ledgers.sources import ledger_rows
from xinfang.org.choices import Level, Role, UnitKind
from xinfang.org.models import Membership, Unit, User
from xinfang.registers.models import BacklogCase
from xinfang.registers.services import (
    Finding,
    backlog_designate,
    backlog_update,
    roster_upsert,
    screening_record,
    screening_update,
)

pytestmark = pytest.mark.django_db

L1_HEADER_TOP = ("序号", "排查时间", "信访人姓名", "联系方式", "是否脱贫户(监测对象)", "问题所属地",
                 "反映问题", "问题类别", "是否为新排查出的不稳定因素", "责任单位", "三到位一处理",
                 None, None, None, "是否稳定", "备注")
L1_HEADER_SUB = (None,) * 10 + ("诉求合理的是否解决到位", "诉求无力的是否思想引导到位",
                                "生活困难的是否帮扶救助到位", "行为违法的是否依法处理", None, None)
L2_HEADER_TOP = ("序号", "初访时间", "信访人姓名", "联系方式", "是否脱贫户 (监测对象)",
                 "问题所属地(乡镇、村)", "反映问题", "问题类别", "积案原因", "包案人", "责任单位",
                 "三到位一处理", None, None, None, "是否稳定", "备注")
L2_HEADER_SUB = (None,) * 11 + ("诉求合理的是否解决到位", "诉求无理的是否思想引导到位",
                                "生活困难的是否帮扶救助到位", "行为违法的是否依法处理", None, None)
L3_HEADER = ("序号", "单位", "分管领导", "职务", "办公电话", "手机号码", "涉贫信访专干", "办公电话",
             "手机号码")
REASON = "核对排查对象身份，入户回访"


def book(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def values(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def merges(sheet) -> set[str]:
    return {str(r) for r in sheet.merged_cells.ranges}


def finding(j, *, by=None, name="周大勇", township="将官池镇", village="岗朱村", **extra):
    return screening_record(by=by or j.member("clerk"), finding=Finding(
        screened_on=date(2026, 10, 12), township=j.townships[township],
        village=j.villages.get(village) if village else None, person_name=name,
        contact="13700001111", problem="反映产业帮扶资金分配不公", category="资金项目", **extra))


def other_township_member(j) -> Membership:
    user = User.objects.create(username="zhanjian", full_name="冯远")
    return Membership.objects.create(user=user, unit=j.townships["椹涧乡"], role=Role.UNIT_HANDLER)


def assert_print_setup(sheet, first_header_row: int, last_header_row: int):
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    # fitToWidth absent is its ECMA-376 default, 1 page wide; fitToHeight 0: as long as needed
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${first_header_row}:${last_header_row}"
    assert sheet.freeze_panes == f"A{last_header_row + 1}"


# -- layouts --------------------------------------------------------------------------------


def test_l1_has_the_title_the_block_the_merged_two_row_header_and_the_footnotes(jianan):
    j = jianan
    j.office.phone = "0374-5555123"
    j.office.save()
    f = finding(j, responsible_unit=j.bureaus["区民政局"], note="已约谈")
    screening_update(by=j.member("clerk"), finding=f, changes={
        "solved": True, "guided": False, "stable": True})
    sheet = book(ledger_bytes("l1", by=j.member("clerk")))
    rows = values(sheet)
    assert sheet.title == "不稳定因素排查处置台账"
    assert rows[0][0] == "不稳定因素排查处置台账"
    assert rows[1][0] == f"填报单位：{j.office.name}" and rows[1][8] == "联系电话：0374-5555123"
    assert rows[2] == L1_HEADER_TOP and rows[3] == L1_HEADER_SUB
    assert L1.headers == tuple(t for t in L1_HEADER_TOP[:10] + L1_HEADER_SUB[10:14]
                               + L1_HEADER_TOP[14:])
    assert {"A1:P1", "A2:H2", "I2:P2", "K3:N3", "A3:A4", "J3:J4", "O3:O4", "P3:P4"} <= merges(sheet)
    data = rows[4]
    assert data[0] == 1 and data[1].date() == date(2026, 10, 12)
    assert data[2:6] == ("周*勇", "137****1111", "否", "将官池镇岗朱村")
    assert data[6:10] == ("反映产业帮扶资金分配不公", "资金项目", "是", "区民政局")
    assert data[10:16] == ("是", "否", None, None, "是", "已约谈")
    assert rows[6][0] == "备注:" and rows[7][0].startswith("1. 问题类别栏选择填写：防返贫监测")
    assert rows[8][0] == "2. 问题所属地栏填写：**乡（镇）**村（社区）。"
    assert "A8:P8" in merges(sheet)
    assert_print_setup(sheet, 3, 4)
    assert sheet.column_dimensions["G"].width > sheet.column_dimensions["A"].width


def test_l2_has_its_columns_the_leader_and_the_case_petitioner(jianan):
    j = jianan
    case = register_in(j)
    approver = j.member("approver")
    line = backlog_designate(by=approver, case=case, owner_leader=approver.user,
                             reason="多次重复访", plan="包案化解", plan_deadline=date(2026, 12, 31))
    backlog_update(by=j.member("clerk"), backlog=line, changes={"assisted": True, "note": "回访"})
    sheet = book(ledger_bytes("l2", by=j.member("clerk")))
    rows = values(sheet)
    assert rows[0][0] == "涉贫信访舆情积案台账" and rows[1][0].startswith("填报单位：")
    assert rows[2] == L2_HEADER_TOP and rows[3] == L2_HEADER_SUB
    assert {"A1:Q1", "L3:O3", "A3:A4", "K3:K4", "P3:P4", "Q3:Q4"} <= merges(sheet)
    data = rows[4]
    assert data[0] == 1 and data[1].date() == date(2026, 9, 14)
    assert data[2:6] == ("张*明", "138****5678", "是", "将官池镇岗朱村")
    assert data[6:10] == ("反映危房改造补助未到位", "危房改造", "多次重复访", "王建国")
    assert data[12:17] == (None, "是", None, None, "回访")
    assert rows[6][0] == "备注:"
    assert_print_setup(sheet, 3, 4)


def test_l3_is_one_header_row_with_the_title_and_no_block(jianan):
    j = jianan
    roster_upsert(by=j.member("clerk"), unit=j.townships["将官池镇"], leader_name="刘海",
                  leader_position="副镇长", leader_office_phone="0374-1234567",
                  leader_mobile="13900001111", clerk_name="陈晓东", clerk_mobile="13900002222")
    sheet = book(ledger_bytes("l3", by=j.member("clerk")))
    rows = values(sheet)
    assert rows[0][0] == "乡镇涉贫信访干部队伍统计表" and "A1:I1" in merges(sheet)
    assert rows[1] == L3_HEADER == L3.headers
    assert rows[2] == (1, "将官池镇", "刘海", "副镇长", "0374-1234567", "13900001111", "陈晓东",
                       None, "13900002222")
    assert_print_setup(sheet, 2, 2)


def test_l0_has_its_title_above_the_one_header_row_and_prints_landscape(jianan):
    register_in(jianan)
    clerk = jianan.member("clerk")
    sheet = book(ledger_bytes("l0", ledger_rows("l0", clerk, {}), by=clerk))
    rows = values(sheet)
    assert rows[0][0] == "信访事项台账" and "A1:K1" in merges(sheet)
    assert rows[1] == L0.headers
    assert rows[2][0].startswith("建安信")
    assert_print_setup(sheet, 2, 2)


# -- masking, door, filters ------------------------------------------------------------------------


def test_the_office_reveals_with_a_reason_and_a_township_never_does(jianan):
    j = jianan
    finding(j)
    clerk, township = j.member("clerk"), j.member("township")
    with pytest.raises(Exception) as refused:
        ledger_bytes("l1", by=clerk, unmasked=True)
    assert "理由" in str(refused.value)
    rows = values(book(ledger_bytes("l1", by=clerk, unmasked=True, reason=REASON)))
    assert rows[4][2:4] == ("周大勇", "13700001111")
    rows = values(book(ledger_bytes("l1", by=township, unmasked=True, reason=REASON)))
    assert rows[4][2:4] == ("周*勇", "137****1111")
    entry = AuditEntry.objects.filter(action="export", object_id="L1").order_by("pk")
    assert [e.detail["revealed_rows"] for e in entry] == [1, 0]
    assert entry.first().detail["reason"] == REASON


def test_a_confidential_case_petitioner_stays_masked_in_l2_for_everyone_but_the_office(jianan):
    j = jianan
    case = register_in(j)
    case.petitioner_links.update(confidential=True)
    approver = j.member("approver")
    backlog_designate(by=approver, case=case, owner_leader=approver.user, reason="重复访",
                      plan="包案", plan_deadline=date(2026, 12, 31))
    rows = values(book(ledger_bytes("l2", by=j.member("clerk"), unmasked=True, reason=REASON)))
    assert rows[4][2] == "张三明"
    inspector = j.member("inspector")
    rows = values(book(ledger_bytes("l2", by=inspector, unmasked=True, reason=REASON)))
    assert rows[4][2] == "张*明"


def test_each_ledger_holds_only_the_rows_of_the_door_and_the_filters(jianan):
    j = jianan
    ours = finding(j)  # 将官池镇
    theirs = finding(j, township="椹涧乡", village="小河村", name="钱多多")
    township = j.member("township")
    rows = values(book(ledger_bytes("l1", ledger_rows("l1", township, {}), by=township)))
    assert [r[2] for r in rows[4:5]] == ["周*勇"] and rows[5] == (None,) * 16
    clerk = j.member("clerk")
    picked = ledger_rows("l1", clerk, {"township": str(j.townships["椹涧乡"].pk)})
    assert list(picked) == [theirs]
    assert set(ledger_rows("l1", clerk, {"month": "2026-10"})) == {ours, theirs}
    assert not ledger_rows("l1", clerk, {"month": "2026-11"}).exists()
    assert not ledger_rows("l1", clerk, {"month": "2026-13"}).exists()
    # a queryset from elsewhere cannot widen the door
    from xinfang.registers.models import ScreeningFinding
    rows = values(book(ledger_bytes("l1", ScreeningFinding.objects.all(), by=township)))
    assert [r[0] for r in rows[4:] if isinstance(r[0], int)] == [1]


@pytest.mark.parametrize("month", ["0-01", "99999-01", "2026-1\u00b2", "\u00b2026-01"])
def test_a_month_no_calendar_holds_gives_no_rows_not_a_server_error(jianan, month):
    # year 0 or 99999 (date() refuses both) and a superscript digit (isdigit() yet no int):
    # the page, the export and the command answer an empty ledger, as for 2026-13
    j = jianan
    finding(j)
    clerk = j.member("clerk")
    assert not ledger_rows("l1", clerk, {"month": month}).exists()
    response = client_as(clerk).get("/api/ledgers/l1.xlsx", {"month": month})
    assert response.status_code == 200
    assert values(book(response.getvalue()))[4] == (None,) * 16


def test_query_counts_do_not_grow_with_the_rows(jianan):
    j = jianan
    clerk = j.member("clerk")
    approver = j.member("approver")

    def counts():
        out = {}
        for code in ("l1", "l2", "l3"):
            with CaptureQueriesContext(connection) as ctx:
                ledger_bytes(code, ledger_rows(code, clerk, {}), by=clerk, unmasked=True,
                             reason=REASON)
            out[code] = len(ctx.captured_queries)
        return out

    def add(n, start):
        for i in range(n):
            finding(j, name=f"张{start + i}")
            case = register_in(j)
            backlog_designate(by=approver, case=case, owner_leader=approver.user, reason="重复",
                              plan="包案", plan_deadline=date(2026, 12, 31))
        units = list(Unit.objects.filter(level=Level.TOWNSHIP, kind=UnitKind.TOWNSHIP,
                                         path__startswith=j.county.path))
        for unit in units[:n]:
            roster_upsert(by=clerk, unit=unit, leader_name="某", leader_position="副职",
                          clerk_name="某")

    add(1, 0)
    one = counts()
    add(6, 10)
    many = counts()
    assert many == one, (one, many)


# -- API and command ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["l1", "l2", "l3"])
def test_the_api_streams_each_register_ledger_and_audits_it(jianan, code):
    j = jianan
    finding(j)
    response = client_as(j.member("clerk")).get(f"/api/ledgers/{code}.xlsx")
    assert response.status_code == 200 and response.streaming
    sheet = book(response.getvalue())
    assert sheet.title in {L1.sheet, L2.sheet, L3.sheet}
    assert AuditEntry.objects.filter(action="export", object_id=code.upper()).count() == 1
    bad = client_as(j.member("clerk")).get(f"/api/ledgers/{code}.xlsx?unmasked=true")
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]


def test_the_command_exports_every_ledger_with_its_filters(jianan, tmp_path):
    j = jianan
    finding(j)
    finding(j, township="椹涧乡", village="小河村", name="钱多多")
    assert list(LEDGERS)[:4] == ["l0", "l1", "l2", "l3"]
    for code in LEDGERS:
        out = tmp_path / f"{code}.xlsx"
        call_command("export_ledger", code, str(out), "--as", j.member("clerk").user.username)
        assert out.exists()
    out = tmp_path / "month.xlsx"
    call_command("export_ledger", "l1", str(out), "--as", j.member("clerk").user.username,
                 "--township", str(j.townships["椹涧乡"].pk), "--unmasked", "--reason", REASON)
    rows = values(load_workbook(out).active)
    assert rows[4][2] == "钱多多" and rows[5][0] is None
    entry = AuditEntry.objects.filter(action="export", object_id="L1").latest("pk")
    assert entry.detail["via"] == "cli" and entry.detail["filters"]["township"]
    with pytest.raises(CommandError):
        call_command("export_ledger", "l9", str(out), "--as", j.member("clerk").user.username)


@pytest.mark.parametrize(("code", "option", "value"), [
    ("l0", "--state", "registerd"),
    ("l0", "--kind", "petiton"),
    ("l0", "--channel", "letters"),
    ("l0", "--township", "将官池镇"),
    ("l0", "--received-from", "2026-13-01"),
    ("l0", "--received-to", "2026/10/01"),
    ("l1", "--month", "2026-10-01"),
    ("l1", "--from", "yesterday"),
    ("l2", "--to", "2026-02-30"),
    ("l2", "--township", "-3"),
])
def test_the_command_refuses_a_filter_value_that_can_mean_nothing(
        jianan, tmp_path, code, option, value):
    # A page's filter that means nothing is an empty list; a command's is a typo in a script
    # that would export an empty ledger, audit it and exit 0.
    finding(jianan)
    out = tmp_path / "out.xlsx"
    exports = AuditEntry.objects.filter(action="export").count()
    with pytest.raises(CommandError, match=option):
        call_command("export_ledger", code, str(out), "--as",
                     jianan.member("clerk").user.username, option, value)
    assert not out.exists()
    assert AuditEntry.objects.filter(action="export").count() == exports


def test_progress_is_reported_as_the_rows_are_written(jianan):
    j = jianan
    for i in range(3):
        finding(j, name=f"李{i}")
    seen = []
    clerk = j.member("clerk")
    ledger_bytes("l1", ledger_rows("l1", clerk, {}), by=clerk,
                 progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)


def test_a_backlog_line_without_a_case_shows_its_own_person(jianan):
    j = jianan
    BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        contact="13600001234", reason="补助未兑现", owner_leader_text="王建国（副区长）",
        responsible_unit_text="区住建局", locality_text="将官池镇岗朱村",
        first_petition_on=date(2022, 3, 5), designated_at="2026-01-01T00:00:00+08:00")
    rows = values(book(ledger_bytes("l2", by=j.member("clerk"), unmasked=True, reason=REASON)))
    assert rows[4][1].date() == date(2022, 3, 5)
    assert rows[4][2:4] == ("马小红", "13600001234")
    assert rows[4][9:11] == ("王建国（副区长）", "区住建局")
    rows = values(book(ledger_bytes("l2", by=j.member("clerk"))))
    assert rows[4][2:4] == ("马*红", "136****1234")


def test_each_line_without_a_case_shows_its_own_person_beside_a_cases_line(jianan):
    # the lines' own names are read for the lines without a case only: each gets its own
    j = jianan
    case = register_in(j)  # its petitioner 张三明, 13812345678
    for i, (name, phone) in enumerate((("马小红", "13600001234"), ("钱多多", "13700005678"))):
        BacklogCase.objects.create(
            jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name=name,
            contact=phone, reason="补助未兑现", designated_at=f"2026-01-0{i + 1}T00:00:00+08:00")
    BacklogCase.objects.create(
        jurisdiction=j.county, case=case, person_name="不显示", contact="10000000000",
        reason="逾期未化解", designated_at="2026-01-03T00:00:00+08:00")
    rows = values(book(ledger_bytes("l2", by=j.member("clerk"), unmasked=True, reason=REASON)))
    assert [r[2:4] for r in rows[4:7]] == [("马小红", "13600001234"), ("钱多多", "13700005678"),
                                           ("张三明", "13812345678")]
