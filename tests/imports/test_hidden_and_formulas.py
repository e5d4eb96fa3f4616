"""What a workbook holds that a reader does not see: a hidden sheet (named in the preview, not
read) and a formula whose result the file does not keep (a workbook written by a program and
never opened in Excel or WPS) — named by sheet and cell, never imported as a blank."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from xinfang.cases.models import Case
from xinfang.imports.units import units_import
from xinfang.org.models import Unit

from .books import l0_good_rows, l0_sheet, save
from .test_tampered_files import SHEET, patched, run
from .test_units_and_pages import PASSWORD

pytestmark = pytest.mark.django_db

UNCOMPUTED = "是公式，但文件里没有它的计算结果"


def with_hidden_sheet(state: str = "hidden") -> bytes:
    """The L0 ledger, and last year's ledger in a sheet hidden beside it."""
    wb = Workbook()
    l0_sheet(wb.active, l0_good_rows())
    wb.active.title = "2022年台账"
    old = wb.create_sheet("2021年台账（旧）")
    l0_sheet(old, [["建安2021-001", "赵九", "将官池镇岗朱村", "13812345678", "反映问题",
                    "危房改造", "区住建局", "", "2021.3.5", "", ""]])
    old.sheet_state = state
    return save(wb)


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_named_in_the_preview_and_not_read(client, jianan, state):
    # given a ledger with last year's sheet hidden beside it
    client.login(username=jianan.member("clerk").user.username, password=PASSWORD)
    upload = io.BytesIO(with_hidden_sheet(state))
    upload.name = "台账.xlsx"
    # when it is previewed
    r = client.post(reverse("imports:ledger_upload"), {"file": upload})
    body = client.get(r.url).content.decode()
    # then the preview names the hidden sheet as not read, and lists only the visible rows
    assert "工作表“2021年台账（旧）”：隐藏的工作表，未读取" in body
    assert "赵*" not in body and "将新建 5 条" in body.replace("\n", " ").replace("  ", " ")


def test_a_hidden_sheet_is_named_by_the_command_and_its_rows_are_not_imported(
    jianan, tmp_path, capsys
):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(with_hidden_sheet())
    call_command("import_ledger", str(path), "--as", jianan.member("clerk").user.username)
    assert "工作表“2021年台账（旧）”：隐藏的工作表，未读取" in capsys.readouterr().out
    assert Case.objects.count() == len(l0_good_rows())


def formulas_in_place(values: dict[str, str], *, footnote: bool = True) -> bytes:
    """The L0 ledger with formulas written in some cells by a program (openpyxl keeps no
    result: ``<v></v>``), as an export script would fill 电话 from another sheet."""
    wb = Workbook()
    l0_sheet(wb.active, l0_good_rows(), footnote=footnote)
    wb.active.title = "2022年台账"
    for cell, formula in values.items():
        wb.active[cell] = formula
    return save(wb)


def test_a_formula_without_its_result_is_named_by_sheet_and_cell_not_read_as_blank(jianan):
    # given the phone of row 6 and the name (a required column) of row 7 as formulas
    content = formulas_in_place({"D6": '="138"&"12345678"', "B7": "=通讯录!B2"})
    # when it is read
    out = run(jianan, content, filename="台账.xlsx")
    # then each is named by sheet, row and column, and no blank was imported
    issues = [str(i) for i in out.issues]
    assert [i.split("：")[0] for i in issues] == [
        "2022年台账 第6行 D列（电话）", "2022年台账 第7行 B列（信访人姓名）"]
    assert all(UNCOMPUTED in i for i in issues)
    assert not any("未填写" in i for i in issues)
    assert not out.committed and not Case.objects.exists()


def test_a_row_of_formulas_alone_is_not_skipped_as_a_blank_row(jianan):
    # given a row below the ledger whose every cell is a formula (another sheet's values)
    content = formulas_in_place({f"{col}11": f"=来源!{col}2" for col in "ABCDEFGHIJK"},
                                footnote=False)
    # when it is read
    out = run(jianan, content, filename="台账.xlsx", dry_run=True)
    # then the row is there, each of its cells named
    assert {i.row for i in out.issues} == {11}
    assert len(out.issues) == 11 and all(UNCOMPUTED in i.reason for i in out.issues)


def test_a_formula_with_its_kept_result_is_read_as_that_result(jianan):
    # given the phone of row 6 as Excel saves a formula: its result kept beside it; and the
    # 处理情况 of row 7 a formula whose result is an empty text
    content = formulas_in_place({"D6": '="138"&"12345678"', "J7": '=IF(1,"","x")'})
    content = patched(content, SHEET, lambda xml: xml.replace(
        b'<c r="D6"><f>"138"&amp;"12345678"</f><v></v></c>',
        b'<c r="D6" t="str"><f>"138"&amp;"12345678"</f><v>13812345678</v></c>',
    ).replace(b'<c r="J7"><f>', b'<c r="J7" t="str"><f>'))
    # when it is imported
    out = run(jianan, content, filename="台账.xlsx")
    # then it is read as that result, with nothing to say
    assert not out.issues and out.committed


def test_a_formula_in_the_header_is_named_when_the_sheet_is_not_read(jianan):
    # given the header's labels over 姓名, 住址, 电话 and 反映问题 as formulas
    content = formulas_in_place({"B5": "=标题!A1", "C5": "=标题!A2", "D5": "=标题!A3",
                                 "E4": "=标题!A4"})
    # when it is read
    out = run(jianan, content, filename="台账.xlsx", dry_run=True)
    # then the missing columns are named, and why: the cells that hold them, by name
    assert [str(i)[:40] for i in out.issues] == [
        "2022年台账：L0缺少必填列：信访人姓名、反映问题及主要诉求",
        "2022年台账：E4、B5、C5、D5是公式，但文件里没有它的计算结果（文件由程序生成，"[:40],
    ]


def test_units_name_a_hidden_sheet_and_a_formula_without_its_result(jianan, tmp_path, capsys):
    # given a unit tree whose second path is a formula, and a hidden sheet of drop-down lists
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["单位路径", "类型"])
    ws.append(["河南省/许昌市/建安区/新镇", "乡镇"])
    ws.append(['="河南省/许昌市/建安区/"&"另一镇"', "乡镇"])
    lists = wb.create_sheet("类型列表")
    lists.append(["乡镇"])
    lists.sheet_state = "hidden"
    content = save(wb)
    # when it is read
    out = units_import(content=content, filename="u.xlsx", by=None, dry_run=True)
    # then the cell is named, nothing is created, and the hidden sheet is named
    assert out.errors == [f"单位 第3行 A列（单位路径）：{UNCOMPUTED}"
                          "（文件由程序生成，未在 Excel 或 WPS 中打开保存过），读出来是空的；"
                          "请在 Excel 或 WPS 中打开、保存后重新导入"]
    assert out.hidden == ["类型列表"]
    assert not Unit.objects.filter(name="新镇").exists()
    # the command names the hidden sheet too
    path = tmp_path / "u.xlsx"
    path.write_bytes(content)
    with pytest.raises(Exception, match="1 处错误"):
        call_command("units", "import", str(path), "--dry-run")
    assert "工作表“类型列表”：隐藏的工作表，未读取" in capsys.readouterr().out
