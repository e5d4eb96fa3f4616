"""A workbook (or CSV) as grids of values, merged cells filled in, and the header found.

Offices put title rows, a "填报单位 / 联系电话" block and sometimes a blank row above the header,
write the header over one or two rows with merged cells, and footnotes under the table. We read
each sheet as a grid whose row numbers are the ones Excel shows, find the header row by the
labels it holds, and stop at the first footnote row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from .cells import label, text


class FileUnreadable(Exception):
    pass


@dataclass
class Grid:
    sheet: str
    rows: list[tuple[int, list]]  # (Excel row number, values)
    hidden: bool = False  # a hidden sheet: named, never read (``rows`` is empty)
    # The cells holding a formula whose result the file does not keep, by Excel row number:
    # the columns' indexes (from 0). They read as empty and must not pass for blanks.
    uncomputed: dict[int, list[int]] = field(default_factory=dict)

    def uncomputed_cells(self, limit: int = 10) -> str:
        """The uncomputed cells as Excel names them, "D6、E6" (the first ``limit``, then a
        count)."""
        from openpyxl.utils import get_column_letter

        names = [f"{get_column_letter(c + 1)}{r}" for r, cols in sorted(self.uncomputed.items())
                 for c in cols]
        more = f"等{len(names)}格" if len(names) > limit else ""
        return "、".join(names[:limit]) + more


# What a cell whose formula has no kept result is told apart from a blank by.
UNCOMPUTED = (
    "是公式，但文件里没有它的计算结果（文件由程序生成，未在 Excel 或 WPS 中打开保存过），"
    "读出来是空的；请在 Excel 或 WPS 中打开、保存后重新导入"
)


def read_grids(content: bytes, filename: str) -> list[Grid]:
    name = filename.lower()
    if name.endswith(".csv"):
        return [Grid("CSV", _csv_rows(content))]
    if name.endswith((".xlsx", ".xlsm")):
        return _xlsx_grids(content)
    if name.endswith(".xls"):
        raise FileUnreadable("不支持旧版 .xls 文件，请在 Excel 或 WPS 中另存为 .xlsx 后再导入")
    raise FileUnreadable("只能导入 .xlsx 或 .csv 文件")


def _csv_rows(content: bytes) -> list[tuple[int, list]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileUnreadable("CSV 文件的编码无法识别（应为 UTF-8 或 GBK）")
    # newline="": a line may end in CRLF, LF or a lone CR (Excel for Mac's "CSV (Macintosh)"),
    # which the reader refused as a line break inside a cell.
    reader = csv.reader(io.StringIO(decoded, newline=""))
    rows: list[tuple[int, list]] = []
    try:
        for row in reader:
            rows.append((len(rows) + 1, row))
    except csv.Error as e:
        n = len(rows) + 1  # numbered as the rows are: a quoted cell may span several lines
        # One unclosed quote makes the rest of the file one cell, past the reader's limit.
        if "field limit" in str(e):
            raise FileUnreadable(
                f"CSV 第{n}行有一格超过{csv.field_size_limit()}个字符，无法读取；"
                "请检查该行的引号是否成对"
            ) from None
        raise FileUnreadable(f"CSV 第{n}行无法读取（{e}）") from None
    return rows


# What a workbook may hold before openpyxl loads it whole. A full load makes an object of every
# cell written in the file and of every cell of every merged range: a 5 KB file merging
# A1:Z100000 took 33 s and 0.9 GB, one merging the whole sheet asks for 17 billion; a ZIP
# inflating to gigabytes is read whole. A ledger of 20,000 rows of 15 columns is 300,000 cells
# and 17 MB unpacked (the check reads it in 0.3 s of the 10 s the load takes).
MAX_UNPACKED = 200 * 1024 * 1024
MAX_CELLS = 2_000_000
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=[\"']([^\"']*)")
_CHUNK = 1024 * 1024
_TAIL = 256  # longer than any cell or merge tag's start


def _xlsx_guard(content: bytes) -> None:
    """Refuse, before loading, a workbook whose parts unpack past ``MAX_UNPACKED`` or whose
    parts write or merge more than ``MAX_CELLS`` cells. Each part is read in chunks (the size
    each declares bounds what it unpacks to), every part, not only those named as sheets."""
    from openpyxl.utils.cell import range_boundaries

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError):
        return  # not a ZIP: the load says the file is no workbook
    too_big = (
        f"工作簿解压后超过{MAX_UNPACKED // 1024 // 1024}MB或单元格超过{MAX_CELLS:,}个，"
        "不是手工填写的台账，未导入；请删除多余的行、列和合并后重新导入"
    )
    with archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_UNPACKED:
            raise FileUnreadable(too_big)
        cells = 0
        for member in members:
            try:
                stream = archive.open(member)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
                continue  # encrypted or damaged: the load refuses it
            tail = b""
            with stream:
                while True:
                    try:
                        chunk = stream.read(_CHUNK)
                    except (zipfile.BadZipFile, OSError, EOFError):
                        break
                    data = tail + chunk
                    # A tag starting in the kept tail is counted with the next chunk.
                    cut = len(data) - _TAIL if chunk else len(data)
                    cells += sum(1 for m in _CELL.finditer(data) if m.start() < cut)
                    for m in _MERGE.finditer(data):
                        if m.start() < cut:
                            try:
                                c1, r1, c2, r2 = range_boundaries(m[1].decode("ascii"))
                            except (ValueError, TypeError, UnicodeDecodeError):
                                continue  # the load refuses a range it cannot read
                            cells += (c2 - c1 + 1) * (r2 - r1 + 1)
                    if cells > MAX_CELLS:
                        raise FileUnreadable(too_big)
                    if not chunk:
                        break
                    tail = data[cut:]


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _uncomputed(archive: zipfile.ZipFile, part: str) -> dict[int, list[int]]:
    """The cells of the worksheet ``part`` holding a formula with no kept result, by row (see
    ``Grid.uncomputed``). Excel and WPS keep each formula's last result beside it (``<v>``),
    which is what ``data_only`` reads; a workbook written by a program and never opened in
    either keeps none, and those cells read as empty. A formula whose result is an empty text
    keeps an empty ``<v>`` with ``t="str"``: that one is computed, and empty."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    from openpyxl.xml.functions import iterparse

    try:
        data = archive.read(part)
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    if not _FORMULA.search(data):  # most ledgers: no formula at all, nothing to parse
        return {}
    found: dict[int, list[int]] = {}
    for _event, element in iterparse(io.BytesIO(data)):
        if element.tag.rpartition("}")[2] != "c":
            continue
        children = {child.tag.rpartition("}")[2]: child for child in element}
        value = children.get("v")
        kept = value is not None and (value.text or element.get("t") in ("str", "inlineStr"))
        if "f" in children and not kept and element.get("r"):
            try:
                letters, row = coordinate_from_string(element.get("r"))
                found.setdefault(row, []).append(column_index_from_string(letters) - 1)
            except ValueError:
                pass  # a cell reference openpyxl itself could not have read
        element.clear()
    return found


def _xlsx_grids(content: bytes) -> list[Grid]:
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.utils import get_column_letter

    _xlsx_guard(content)
    try:
        # Not read-only: merged ranges are only known to a full load. (``load_workbook`` is
        # this reader; its parser also names each sheet's part, read again for formulas.)
        reader = ExcelReader(io.BytesIO(content), data_only=True)
        reader.read()
        book = reader.wb
        parts = {sheet.name: rel.target for sheet, rel in reader.parser.find_sheets()}
    except Exception as e:  # a zip that is not a workbook, a damaged file
        raise FileUnreadable(f"文件不是有效的 .xlsx 工作簿（{type(e).__name__}）") from None
    archive = zipfile.ZipFile(io.BytesIO(content))
    grids = []
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            # Not read (a hidden sheet often holds a template's drop-down lists), but named:
            # an office that hid last year's sheet should know it was left out.
            grids.append(Grid(ws.title, [], hidden=True))
            continue
        # The grid reaches the last cell holding a value, not the last one formatted: a border
        # drawn down to row 1048576 is no row of the ledger. (``_cells``: the cells the file
        # wrote; ``iter_rows`` would make one for every empty position it passes.)
        height = width = 0
        for (r, c), cell in ws._cells.items():
            if cell.value is not None:
                height, width = max(height, r), max(width, c)
        # A formula without its result holds no value, but is no empty cell: the grid reaches it.
        uncomputed = _uncomputed(archive, parts[ws.title]) if ws.title in parts else {}
        for r, cols in uncomputed.items():
            height, width = max(height, r), max(width, max(cols) + 1)
        if height * width > MAX_CELLS:
            raise FileUnreadable(
                f"工作表“{ws.title}”的内容一直延伸到第{height}行、{get_column_letter(width)}列，"
                f"超过{MAX_CELLS:,}个单元格，未导入；请删除表格以外的内容后重新导入"
            )
        values = (
            [list(r) for r in ws.iter_rows(max_row=height, max_col=width, values_only=True)]
            if height
            else []
        )
        for merged in ws.merged_cells.ranges:
            top = (
                values[merged.min_row - 1][merged.min_col - 1]
                if merged.min_row <= height and merged.min_col <= width
                else None
            )
            for r in range(merged.min_row, min(merged.max_row, height) + 1):
                for c in range(merged.min_col, min(merged.max_col, width) + 1):
                    values[r - 1][c - 1] = top
        grids.append(Grid(ws.title, [(i, row) for i, row in enumerate(values, start=1)],
                          uncomputed=uncomputed))
    archive.close()
    return grids


# -- the header ------------------------------------------------------------------------------------


@dataclass
class Header:
    first_data: int  # index into Grid.rows of the first row below the header
    labels: list[str]  # one per column: the bottom label, or the top one where there is none
    tops: list[str]  # the label above, for two-row headers (else the same as ``labels``)
    year: int | None  # the year written in the title rows, for dates like 3月5日
    title: str = ""
    block: dict = field(default_factory=dict)  # 填报单位 / 联系电话 above the header


def find_header(grid: Grid, known: set[str], *, scan: int = 15) -> Header | None:
    """The row holding the most known labels (at least three) among the first ``scan`` rows; the
    row below joins it when it holds known labels too (a two-row header)."""
    best, best_score = None, 2
    for i, (_n, row) in enumerate(grid.rows[:scan]):
        score = len({label(v) for v in row} & known)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        return None
    top = [label(v) for v in grid.rows[best][1]]
    labels, first_data = top, best + 1
    if best + 1 < len(grid.rows):
        below = [label(v) for v in grid.rows[best + 1][1]]
        if _is_subheader(top, below, known) and not _looks_like_data(grid.rows[best + 1][1]):
            labels = [b or t for t, b in zip(top, below, strict=False)]
            first_data = best + 2
    above = [row for _n, row in grid.rows[:best]]
    title, year, block = _above(above)
    return Header(first_data, labels, top, year, title, block)


def _is_subheader(top: list[str], below: list[str], known: set[str]) -> bool:
    """The row under the header is its second row when it names two columns, or names one
    under a blank or merged (repeated) top cell. A data cell that happens to read like a label
    ("反映问题") under a header of its own does not make it one."""
    hits = [i for i, b in enumerate(below) if b and b in known]
    if len(hits) >= 2:
        return True
    return any(
        i < len(top)
        and (
            not top[i]
            or (i > 0 and top[i] == top[i - 1])
            or (i + 1 < len(top) and top[i] == top[i + 1])
        )
        for i in hits
    )


def _looks_like_data(row) -> bool:
    return any(isinstance(v, int | float) and not isinstance(v, bool) and v > 31 for v in row)


def _above(rows) -> tuple[str, int | None, dict]:
    title, year, block = "", None, {}
    for row in rows:
        cells = [text(v) for v in row if text(v)]
        if not cells:
            continue
        joined = " ".join(dict.fromkeys(cells))  # a merged title repeats across its columns
        m = re.search(r"((?:19|20)\d{2})\s*年", joined)
        if m and year is None:
            year = int(m[1])
        for key in ("填报单位", "联系电话", "填报时间", "填报日期"):
            m = re.search(key + r"\s*[:：]\s*(\S*)", joined)
            if m and m[1]:
                block[key] = m[1]
        if not title:
            title = joined
    return title, year, block


FOOTNOTE = re.compile(
    r"^(注|说明|备注[:：]|填表|填报人|审核|制表|负责人|单位负责人|领导签字|附[:：])"
)


def is_footnote(row) -> bool:
    """A row of one text (one cell, or one merged across), beginning as footnotes and signature
    lines do."""
    cells = {text(v) for v in row if text(v)}
    return len(cells) == 1 and bool(FOOTNOTE.match(next(iter(cells))))


def is_blank(row) -> bool:
    return not any(text(v) for v in row)
