"""The L0 case ledger (FORMS.md): exact header, rows from the permission door only, personal data
masked by default, and in clear only in an unmasked export with a reason, where the office may
reveal it; every export audited with its reason — over the API and the command."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command, get_commands
from django.utils import timezone

from tests.api.world import client_as, read_sheet, walk
from tests.conftest import register_in
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Case
from xinfang.ledgers.exports import L0_HEADERS, XLSX_CONTENT_TYPE, ledger_l0
from xinfang.ledgers.management.commands.export_ledger import Command

pytestmark = pytest.mark.django_db

HEADER = ("编号", "信访人姓名", "住址", "电话", "反映问题及主要诉求", "问题类别", "承办单位",
          "责任人", "交办时间", "处理情况", "销号时间")


REASON = "核对信访人身份，准备入户回访"
UNMASKED = f"?unmasked=true&reason={REASON}"


def export(membership, query: str = ""):
    response = client_as(membership).get(f"/api/ledgers/l0.xlsx{query}")
    assert response.status_code == 200, response
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert response.streaming, "the workbook is streamed from a file, not built in memory"
    return read_sheet(response.getvalue())


def test_the_header_row_is_exactly_the_forms_md_l0_columns(jianan):
    assert L0_HEADERS == HEADER
    rows = export(jianan.member("clerk"))
    assert rows == [HEADER]  # an empty ledger still has its header


def test_a_closed_case_fills_every_column_and_the_office_sees_it_unmasked(jianan):
    case = walk(jianan, "closed")
    rows = export(jianan.member("clerk"), UNMASKED)
    assert len(rows) == 2
    row = dict(zip(HEADER, rows[1], strict=True))
    assert row["编号"] == case.number == "建安信〔2026〕0001号"
    assert (row["信访人姓名"], row["住址"], row["电话"]) == (
        "张三明", "将官池镇岗朱村3组", "13812345678")
    assert row["反映问题及主要诉求"] == (
        "反映危房改造补助未到位\n主要诉求：1. 要求落实2025年危房改造补助")
    assert row["问题类别"] == "危房改造"
    assert row["承办单位"] == "将官池镇（主办）、区民政局（协办）"
    assert row["责任人"] == "陈晓东"
    assigned_at = local(case.assignments.get(role="lead").assigned_at)
    assert abs(row["交办时间"] - assigned_at) < timedelta(seconds=1)  # Beijing time, as typed
    assert row["处理情况"] == "已销号；核查：诉求1部分属实（诉求合理的解决到位）"
    assert abs(row["销号时间"] - local(case.closed_at)) < timedelta(seconds=1)


def local(dt):
    return timezone.localtime(dt).replace(tzinfo=None)


@pytest.mark.parametrize("member", ["township", "bureau", "inspector", "city_clerk"])
def test_everyone_but_the_offices_clerk_approver_and_chief_gets_masked_rows(jianan, member):
    walk(jianan, "in_progress")
    rows = export(jianan.member(member), UNMASKED)
    assert rows[1][1:4] == ("张*明", "将官池镇****", "138****5678")


@pytest.mark.parametrize("member", ["clerk", "approver", "chief", "township"])
def test_an_export_is_masked_by_default_even_for_the_office(jianan, member):
    walk(jianan, "in_progress")
    rows = export(jianan.member(member))
    assert rows[1][1:4] == ("张*明", "将官池镇****", "138****5678")
    assert "张三明" not in str(rows) and "13812345678" not in str(rows)
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["unmasked"] is False and entry.detail["revealed_rows"] == 0


@pytest.mark.parametrize("query", ["?unmasked=true", "?unmasked=true&reason=%20%20",
                                   "?unmasked=1&reason=" + "长" * 201])
def test_an_unmasked_export_without_a_reason_is_refused_naming_the_field(jianan, query):
    walk(jianan, "in_progress")
    response = client_as(jianan.member("clerk")).get(f"/api/ledgers/l0.xlsx{query}")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"reason"}
    assert not AuditEntry.objects.filter(action="export").exists()


def test_an_unmasked_export_is_audited_with_its_reason(jianan):
    case = walk(jianan, "in_progress")
    export(jianan.member("clerk"), UNMASKED)
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["unmasked"] is True and entry.detail["reason"] == REASON
    assert entry.detail["revealed_rows"] == 1 and entry.detail["cases"] == [case.number]
    assert "unmasked" not in entry.detail["filters"] and "reason" not in entry.detail["filters"]


@pytest.mark.parametrize("member", ["clerk", "approver", "chief"])
def test_the_office_reveals_even_a_confidential_case(jianan, member):
    walk(jianan, "in_progress", confidential=True)
    assert export(jianan.member(member), UNMASKED)[1][1] == "张三明"
    assert export(jianan.member(member))[1][1] == "张*明"


def test_a_confidential_case_never_shows_its_petitioner_to_the_handling_unit(jianan):
    walk(jianan, "in_progress", confidential=True)
    for member in ("township", "township_head", "proxy", "bureau"):
        rows = export(jianan.member(member), UNMASKED)
        assert rows[1][1] == "张*明", member
        assert "张三明" not in str(rows) and "13812345678" not in str(rows)


def test_rows_are_the_cases_the_member_may_see_with_the_list_filters(jianan, jurisdiction):
    handled = walk(jianan, "in_progress")
    fresh = register_in(jianan, matter="反映低保未发放")
    register_in(jurisdiction("datonghu"))
    assert [r[0] for r in export(jianan.member("clerk"))[1:]] == [handled.number, fresh.number]
    assert [r[0] for r in export(jianan.member("township"))[1:]] == [handled.number]
    assert [r[0] for r in export(jianan.member("clerk"), "?state=registered")[1:]] == [
        fresh.number]
    assert [r[0] for r in export(jianan.member("clerk"), "?search=低保")[1:]] == [fresh.number]
    assert export(jianan.member("discipline")) == [HEADER]


def test_the_export_cannot_be_widened_by_the_queryset_a_caller_passes(jianan):
    walk(jianan, "in_progress")
    register_in(jianan)
    township = jianan.member("township")
    rows = read_sheet(ledger_l0(Case.objects.all(), by=township))
    assert len(rows) == 2  # the header and the one case assigned to the township


def test_every_export_is_audited_with_who_what_and_which_cases(jianan):
    case = walk(jianan, "in_progress")
    export(jianan.member("clerk"), "?state=in_progress")
    export(jianan.member("township"))
    entries = list(AuditEntry.objects.filter(action="export").order_by("id"))
    assert len(entries) == 2
    office, unit = entries
    assert office.actor == jianan.member("clerk").user and office.object_id == "L0"
    assert office.ip == "127.0.0.1"
    assert office.detail["rows"] == 1 and office.detail["revealed_rows"] == 0
    assert office.detail["filters"] == {"state": ["in_progress"]}
    assert office.detail["cases"] == [case.number] and office.detail["via"] == "api"
    assert unit.detail["revealed_rows"] == 0 and unit.detail["role"] == "unit_handler"


@pytest.mark.parametrize("member", ["sysadmin", "secadmin", "auditor"])
def test_the_three_administrators_cannot_export(jianan, member):
    walk(jianan, "in_progress")
    assert client_as(jianan.member(member)).get("/api/ledgers/l0.xlsx").status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_formula_typed_into_a_case_stays_text_in_the_workbook(jianan):
    walk(jianan, "in_progress", matter='=HYPERLINK("http://evil.example","点我")')
    import io

    from openpyxl import load_workbook

    content = client_as(jianan.member("clerk")).get("/api/ledgers/l0.xlsx").getvalue()
    cell = load_workbook(io.BytesIO(content)).active["E3"]
    assert cell.data_type == "s" and cell.value.startswith('=HYPERLINK("http://evil.example"')


# -- the command -----------------------------------------------------------------------------------


def test_the_command_exports_as_the_named_user(jianan, tmp_path, capsys):
    case = walk(jianan, "in_progress")
    register_in(jianan, matter="反映低保未发放")
    out = tmp_path / "l0.xlsx"
    call_command(Command(), "l0", "--as", "township", str(out))
    rows = read_sheet(out.read_bytes())
    assert rows[0] == HEADER and [r[0] for r in rows[1:]] == [case.number]
    assert rows[1][1] == "张*明"
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["via"] == "cli" and entry.actor == jianan.member("township").user


def test_the_command_takes_the_list_filters(jianan, tmp_path):
    walk(jianan, "in_progress")
    fresh = register_in(jianan, matter="反映低保未发放")
    out = tmp_path / "l0.xlsx"
    call_command(Command(), "l0", "--as", "clerk", "--state", "registered", str(out))
    rows = read_sheet(out.read_bytes())
    assert [r[0] for r in rows[1:]] == [fresh.number] and rows[1][1] == "张*明"


def test_the_command_exports_unmasked_only_with_a_reason_and_audits_it(jianan, tmp_path):
    walk(jianan, "in_progress")
    out = tmp_path / "l0.xlsx"
    with pytest.raises(CommandError, match="--reason"):
        call_command(Command(), "l0", "--as", "clerk", "--unmasked", str(out))
    assert not out.exists() and not list(tmp_path.iterdir())
    assert not AuditEntry.objects.filter(action="export").exists()
    with pytest.raises(CommandError, match="--unmasked"):
        call_command(Command(), "l0", "--as", "clerk", "--reason", REASON, str(out))
    call_command(Command(), "l0", "--as", "clerk", "--unmasked", "--reason", REASON, str(out))
    assert read_sheet(out.read_bytes())[1][1] == "张三明"
    assert [p.name for p in tmp_path.iterdir()] == ["l0.xlsx"]  # no partial file left
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["via"] == "cli" and entry.detail["reason"] == REASON
    assert entry.detail["unmasked"] is True
    call_command(Command(), "l0", "--as", "township", "--unmasked", "--reason", REASON, str(out))
    assert read_sheet(out.read_bytes())[1][1] == "张*明"  # a handling unit never in bulk


def test_the_export_runs_a_fixed_number_of_queries_whatever_the_rows(jianan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.selectors import cases_for
    from xinfang.org.models import Membership

    clerk = Membership.objects.select_related("user", "unit").get(pk=jianan.member("clerk").pk)
    walk(jianan, "in_progress")

    def queries() -> int:
        with CaptureQueriesContext(connection) as q:
            rows = read_sheet(ledger_l0(cases_for(clerk), by=clerk, unmasked=True,
                                        reason=REASON))
        assert all(row[1] == "张三明" for row in rows[1:])
        return len(q.captured_queries)

    queries()  # warms the membership's per-object caches (its unit's jurisdiction)
    few = queries()
    for _ in range(6):
        walk(jianan, "in_progress")
    assert queries() == few


@pytest.mark.parametrize(("args", "message"), [
    (["--as", "nobody"], "没有有效用户"),
    (["--as", "sysadmin"], "三员分立"),
    (["--as", "clerk", "--membership", "999999"], "没有该有效任职"),
], ids=["unknown-user", "administrator", "not-their-membership"])
def test_the_command_refuses(jianan, tmp_path, args, message):
    out = tmp_path / "l0.xlsx"
    with pytest.raises(CommandError, match=message):
        call_command(Command(), "l0", *args, str(out))
    assert not out.exists() and not AuditEntry.objects.filter(action="export").exists()


def test_the_command_is_installed_as_xinfang_export_ledger():
    assert "xinfang.ledgers" in settings.INSTALLED_APPS, (
        "add \"xinfang.ledgers\" to INSTALLED_APPS in xinfang/settings/base.py")
    assert get_commands()["export_ledger"] == "xinfang.ledgers"


def test_an_export_audits_hostile_filter_text_as_written_out_text(jianan):
    response = client_as(jianan.member("clerk")).get("/api/ledgers/l0.xlsx",
                                                     {"search": "x\x00' OR 1=1"})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["filters"] == {"search": ["x\\x00' OR 1=1"]}


def test_a_merged_case_names_the_case_it_went_into(jianan):
    from xinfang.cases.services import perform

    kept = register_in(jianan)
    merged = register_in(jianan, matter="同一事项再次来访")
    perform("merge", case=merged, by=jianan.member("clerk"), expected_version=merged.version,
            into=kept, note="同一事项")
    rows = {row[0]: row for row in export(jianan.member("clerk"))[1:]}
    assert rows[merged.number][9] == f"已合并；已并入{kept.number}"


def test_a_confidential_petitioner_is_masked_in_the_export_exactly_as_on_the_case_page(jianan):
    """Two petitioners, the second asked for confidentiality: for every membership, what the
    export shows of her is what the case page shows when everyone is asked to be revealed — in
    clear only for the case's own office, masked with the page's masks for everyone else. (The
    ordinary person may differ: a handling unit reveals him on the page, never in bulk.)"""
    from tests.conftest import id_number
    from xinfang.cases.services import PetitionerInput
    from xinfang.web.views.cases import _petitioners

    ordinary = PetitionerInput(name="张三明", id_number=id_number("41102319800101123"),
                               phone="13812345678", address="将官池镇岗朱村3组")
    hidden = PetitionerInput(name="李四海", id_number=id_number("41102319850202456"),
                             phone="13987654321", address="将官池镇岗朱村5组", confidential=True)
    case = walk(jianan, "in_progress", petitioners=[ordinary, hidden])
    everyone = {link.petitioner_id for link in case.petitioner_links.all()}
    for member in ("clerk", "approver", "chief", "township", "township_head", "proxy", "bureau",
                   "inspector", "city_clerk"):
        m = jianan.member(member)
        page = next(row for row in _petitioners(case, m, everyone) if row["confidential"])
        rows = export(m, UNMASKED)
        shown = (rows[1][1].split("、")[1], rows[1][2].split("；")[1], rows[1][3].split("、")[1])
        assert shown == (page["name"], page["address"], page["phone"]), member
        office = member in ("clerk", "approver", "chief")
        assert page["revealed"] is office, member
        assert ("李四海" in str(rows)) is office and ("13987654321" in str(rows)) is office, member


def test_a_ledger_longer_than_one_sheet_is_refused_naming_the_filters_and_writes_nothing(
        jianan, monkeypatch):
    # given a sheet that holds the header and two lines (Excel's holds 1,048,576 rows, as
    # xlsxwriter's own limit says), and three cases
    import xlsxwriter

    from xinfang.ledgers import exports
    from xinfang.ledgers.layouts import L0

    assert exports.SHEET_ROWS == xlsxwriter.Workbook().add_worksheet().xls_rowmax
    for _ in range(3):
        register_in(jianan)
    clerk = jianan.member("clerk")
    audited = AuditEntry.objects.count()
    notes = len(L0.footnotes) + 1 if L0.footnotes else 0
    monkeypatch.setattr(exports, "SHEET_ROWS", L0.first_data_row + 2 + notes)
    # then the API refuses it with a 400 naming the filters: the last line is not dropped
    response = client_as(clerk).get("/api/ledgers/l0.xlsx")
    assert response.status_code == 400, response
    assert "超过 Excel 单个工作表的上限" in response.json()["errors"]["filters"]
    assert "写满 2 行后" in response.json()["errors"]["filters"]
    assert AuditEntry.objects.count() == audited  # nothing exported, nothing audited
    # and a sheet one row longer holds all three
    monkeypatch.setattr(exports, "SHEET_ROWS", L0.first_data_row + 3 + notes)
    assert len(export(clerk)) == 4


def test_an_export_too_long_to_wait_for_points_to_the_background_export(jianan, settings):
    # given three cases and a download limited to two while the person waits
    for _ in range(3):
        register_in(jianan)
    settings.XINFANG_EXPORT_WAIT_ROWS = 2
    clerk = jianan.member("clerk")
    # then the API refuses before writing anything, naming the filters and the way out
    response = client_as(clerk).get("/api/ledgers/l0.xlsx")
    assert response.status_code == 400, response
    message = response.json()["errors"]["filters"]
    assert "超过 2 件" in message and "后台导出" in message
    assert message in response.json()["detail"]  # what the page's download link shows
    assert not AuditEntry.objects.filter(action="export").exists()
    # and at the limit it downloads
    settings.XINFANG_EXPORT_WAIT_ROWS = 3
    assert len(export(clerk)) == 4
