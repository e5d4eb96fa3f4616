"""Files handed to the imports by a clumsy or hostile hand: line endings of another system,
a cell too long for the CSV reader, control characters, workbooks built to exhaust the server.
Each is read or refused with a sentence naming where, never a server error."""

from __future__ import annotations

import io
import zipfile

import pytest

from xinfang.cases.models import Case
from xinfang.imports import sheets
from xinfang.imports.services import ledger_import

from .books import L0_HEAD, l0_book, l0_good_rows

pytestmark = pytest.mark.django_db


def run(j, content, filename="台账.csv", **kw):
    kw.setdefault("dry_run", False)
    kw.setdefault("skip_invalid", False)
    return ledger_import(by=j.member("clerk"), content=content, filename=filename, **kw)


def csv_ledger(*rows: str, newline: str = "\n") -> bytes:
    lines = ["2022年信访台账", ",".join(L0_HEAD), *rows]
    return newline.join(lines).encode() + newline.encode()


ROW = "X-1,张三,将官池镇岗朱村,13812345678,反映问题,其他,区民政局,,2022.3.5,,"


def test_a_csv_saved_with_old_mac_line_endings_is_read(jianan):
    # given: Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR
    content = csv_ledger(ROW, ROW.replace("X-1", "X-2"), newline="\r")
    # when
    out = run(jianan, content)
    # then
    assert not out.issues
    assert out.committed and out.count("created") == 2


def test_a_csv_cell_longer_than_the_reader_takes_is_named_by_its_line(jianan):
    long_row = ROW.replace("反映问题", "很长" * 70_000)
    out = run(jianan, csv_ledger(ROW, long_row), dry_run=True)
    assert [str(i) for i in out.issues] == [
        "台账.csv：CSV 第4行有一格超过131072个字符，无法读取；请检查该行的引号是否成对"
    ]
    assert not Case.objects.exists()


def test_control_characters_pasted_into_a_cell_are_left_out(jianan):
    # given: a NUL and a bell pasted into a name and a problem (PostgreSQL refuses NUL in text)
    content = csv_ledger(ROW.replace("张三", "张\x00三\x07").replace("反映问题", "反映\x00问题"))
    # when
    out = run(jianan, content)
    # then
    assert not out.issues and out.committed
    case = Case.objects.get()
    assert case.petitioner_links.get().petitioner.name == "张三"
    assert case.matter == "反映问题"


# -- workbooks built to exhaust the server ---------------------------------------------------------


def patched(content: bytes, part: str, change) -> bytes:
    """``content`` with the ZIP member ``part`` rewritten by ``change``."""
    src = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            z.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def test_a_merge_over_millions_of_cells_is_refused_before_loading(jianan):
    # given: 5 KB of workbook merging A1:Z100000 (33 s and 0.9 GB to load before)
    content = patched(
        l0_book(),
        SHEET,
        lambda xml: xml.replace(
            b"</mergeCells>", b'<mergeCell ref="A1:Z100000"/></mergeCells>'
        ),
    )
    assert len(content) < 10_000
    # when
    out = run(jianan, content, filename="台账.xlsx", dry_run=True)
    # then
    assert [str(i) for i in out.issues] == [
        "台账.xlsx：工作簿解压后超过200MB或单元格超过2,000,000个，不是手工填写的台账，"
        "未导入；请删除多余的行、列和合并后重新导入"
    ]


def test_a_value_written_far_below_the_table_is_named_and_refused(jianan):
    # given: a stray value at Z100000 (a grid of 2.6 million cells to build before)
    far = b'<row r="100000"><c r="Z100000" t="inlineStr"><is><t>x</t></is></c></row>'
    content = patched(l0_book(), SHEET, lambda xml: xml.replace(b"</sheetData>",
                                                                   far + b"</sheetData>"))
    # when
    out = run(jianan, content, filename="台账.xlsx", dry_run=True)
    # then
    assert [str(i) for i in out.issues] == [
        "台账.xlsx：工作表“2022年台账”的内容一直延伸到第100000行、Z列，超过2,000,000个单元格，"
        "未导入；请删除表格以外的内容后重新导入"
    ]


def test_a_cell_formatted_at_the_sheets_last_row_and_column_is_no_part_of_the_grid(jianan):
    # given: a styled empty cell at XFD1048576, as a border drawn down the whole sheet leaves
    far = b'<row r="1048576"><c r="XFD1048576" s="0"/></row>'
    content = patched(l0_book(), SHEET, lambda xml: xml.replace(b"</sheetData>",
                                                                   far + b"</sheetData>"))
    # when
    out = run(jianan, content, filename="台账.xlsx")
    # then: the ledger is read as without it
    assert not out.issues and out.committed
    assert out.count("created") == len(l0_good_rows())


def test_a_workbook_unpacking_past_the_limit_is_refused_before_loading(jianan, monkeypatch):
    # given: a part padded to inflate past the limit (lowered here: the real one is 200 MB)
    monkeypatch.setattr(sheets, "MAX_UNPACKED", 1024 * 1024, raising=False)
    content = patched(l0_book(), "docProps/app.xml", lambda xml: xml + b" " * 2_000_000)
    assert len(content) < 50_000
    # when
    out = run(jianan, content, filename="台账.xlsx", dry_run=True)
    # then
    assert len(out.issues) == 1 and "工作簿解压后超过1MB" in str(out.issues[0])
