"""A hand-filled ledger workbook read into rows: which ledger each sheet is, every value parsed,
every bad cell named by sheet, Excel row number and column. Nothing is written here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from openpyxl.utils import get_column_letter

from xinfang.org.choices import Level
from xinfang.org.models import Unit, switched_off_text
from xinfang.security.idcard import validate_id_number

from .cells import (
    CellError,
    person_name,
    read_date,
    read_mark,
    read_phone,
    split_locality,
    stem,
    text,
)
from .layouts import KNOWN_LABELS, Layout, column_title, recognise
from .sheets import UNCOMPUTED, Grid, find_header, is_blank, is_footnote, read_grids

DATES = {"assigned_on", "closed_on", "screened_on", "first_visit"}
MARKS = {"poor", "is_new", "solved", "guided", "assisted", "dealt_by_law", "stable"}
PHONES = {"phone"}
# Longest text each column may hold (the register and case fields it lands in).
LIMITS = {"name": 50, "number": 60, "unit": 100, "responsible": 50, "owner": 50, "category": 40}


@dataclass(frozen=True)
class Issue:
    sheet: str
    row: int | None  # the Excel row number; None for a sheet-wide problem
    column: str  # the column letter, "" when the problem is the row's
    title: str  # the column's header text
    reason: str

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} 第{self.row}行"
        if self.column:
            where += f" {self.column}列（{self.title}）"
        return f"{where}：{self.reason}"


@dataclass
class LedgerRow:
    sheet: str
    row: int
    layout: Layout
    values: dict
    columns: dict[str, int]
    issues: list[Issue] = field(default_factory=list)
    key: str = ""
    natural: str = ""
    status: str = ""  # new / exists / duplicate / error / created
    note: str = ""
    object_id: int | None = None

    def issue(self, key: str, reason: str) -> None:
        index = self.columns.get(key)
        self.issues.append(
            Issue(
                self.sheet,
                self.row,
                get_column_letter(index + 1) if index is not None else "",
                column_title(self.layout, key) if index is not None else "",
                reason,
            )
        )


@dataclass
class SheetInfo:
    name: str
    layout: Layout | None
    header_row: int | None
    rows: int = 0
    title: str = ""
    hidden: bool = False  # a hidden sheet, named in the preview and not read


@dataclass
class Reading:
    sheets: list[SheetInfo] = field(default_factory=list)
    rows: list[LedgerRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # sheet-wide ones


class Places:
    """The jurisdiction's townships and villages by name and by name without its suffix."""

    def __init__(self, jurisdiction: Unit):
        units = list(
            Unit.objects.filter(
                path__under=jurisdiction.path, level__in=[Level.TOWNSHIP, Level.VILLAGE]
            ).only("id", "name", "level", "parent_id", "path", "is_active")
        )
        self.townships: dict[str, Unit] = {}
        self.villages: dict[tuple[int, str], Unit] = {}
        for u in units:
            if u.level == Level.TOWNSHIP:
                self.townships.setdefault(u.name, u)
                self.townships.setdefault(stem(u.name), u)
        for u in units:
            if u.level == Level.VILLAGE and u.parent_id:
                self.villages.setdefault((u.parent_id, u.name), u)
                self.villages.setdefault((u.parent_id, stem(u.name)), u)

    def township(self, name: str) -> Unit | None:
        return self.townships.get(name) or self.townships.get(stem(name))

    def village(self, township: Unit, name: str) -> Unit | None:
        return self.villages.get((township.pk, name)) or self.villages.get(
            (township.pk, stem(name))
        )


def read_ledger(
    content: bytes, filename: str, *, jurisdiction: Unit, categories: tuple[str, ...]
) -> Reading:
    reading = Reading()
    places = Places(jurisdiction)
    for grid in read_grids(content, filename):
        _read_sheet(grid, reading, places, categories)
    if not reading.rows and not reading.issues:
        reading.issues.append(Issue(filename, None, "", "", "未找到 L0、L1 或 L2 台账的表头"))
    _mark_duplicates(reading.rows)
    return reading


def _read_sheet(grid: Grid, reading: Reading, places: Places, categories) -> None:
    if grid.hidden:
        reading.sheets.append(SheetInfo(grid.sheet, None, None, hidden=True))
        return
    header = find_header(grid, KNOWN_LABELS)
    if header is None:
        if any(not is_blank(v) for _n, v in grid.rows) or grid.uncomputed:
            reading.sheets.append(SheetInfo(grid.sheet, None, None))
            reading.issues.append(
                Issue(grid.sheet, None, "", "", "未识别为 L0、L1 或 L2 台账（找不到表头），已跳过")
            )
            _uncomputed_unread(grid, reading)
        return
    layout, columns = recognise(header.labels)
    if layout is None:
        reading.sheets.append(SheetInfo(grid.sheet, None, None))
        reading.issues.append(
            Issue(grid.sheet, None, "", "", "表头不属于 L0、L1 或 L2 台账，已跳过")
        )
        _uncomputed_unread(grid, reading)
        return
    info = SheetInfo(grid.sheet, layout, grid.rows[header.first_data - 1][0], title=header.title)
    reading.sheets.append(info)
    missing = [
        k
        for k in layout.required
        if k not in columns and not (k == "locality" and "township" in columns)
    ]
    if missing:
        reading.issues.append(
            Issue(
                grid.sheet,
                None,
                "",
                "",
                f"{layout.code}缺少必填列：{'、'.join(column_title(layout, k) for k in missing)}",
            )
        )
        _uncomputed_unread(grid, reading)
        return
    seq_col = columns.get("seq")
    for n, values in grid.rows[header.first_data :]:
        if is_blank(values) and not grid.uncomputed.get(n):
            continue
        if is_footnote(values):
            break
        filled = [i for i, v in enumerate(values) if text(v)]
        if filled and all(i == seq_col for i in filled):
            continue  # a pre-numbered empty line of the template
        first = text(values[filled[0]]) if filled else ""
        if first in ("合计", "小计", "总计"):
            continue
        row = LedgerRow(grid.sheet, n, layout, {}, columns)
        _parse_row(row, values, header.year, places, categories, grid.uncomputed.get(n, ()))
        info.rows += 1
        reading.rows.append(row)


def _uncomputed_unread(grid: Grid, reading: Reading) -> None:
    """A sheet not read as a ledger names its formulas without results: its header (or its
    whole content) may be one of them."""
    if grid.uncomputed:
        reading.issues.append(Issue(grid.sheet, None, "", "", grid.uncomputed_cells() + UNCOMPUTED))


def _parse_row(
    row: LedgerRow, values, year, places: Places, categories, uncomputed=()
) -> None:
    """``uncomputed``: the row's cells (column indexes) holding a formula with no kept result,
    named rather than read as blanks."""
    v = row.values
    for key, index in row.columns.items():
        raw = values[index] if index < len(values) else None
        if index in uncomputed:
            row.issue(key, UNCOMPUTED)
            v[key] = None
            continue
        try:
            if key in DATES:
                v[key] = read_date(raw, year=year)
            elif key in MARKS:
                v[key] = read_mark(raw)
            elif key == "id_number":
                v[key] = _id_number(raw)
            elif key in PHONES:
                v[key] = read_phone(raw)
            elif key in ("name", "owner", "responsible"):
                v[key] = person_name(raw)
                if len(v[key]) > LIMITS[key]:
                    raise CellError(f"超过{LIMITS[key]}字")
            else:
                v[key] = text(raw)
                if key in LIMITS and len(v[key]) > LIMITS[key]:
                    raise CellError(f"超过{LIMITS[key]}字")
        except CellError as e:
            row.issue(key, str(e))
            v[key] = None
    for key in row.layout.required:
        if (
            key in row.columns
            and v.get(key) in (None, "")
            and not any(i.column and i.title == column_title(row.layout, key) for i in row.issues)
        ):
            row.issue(key, "未填写")
    if v.get("category") and categories and v["category"] not in categories:
        row.issue("category", f"“{v['category']}”不在本地问题类别中（{'、'.join(categories)}）")
    today = date.today()
    for key in DATES:
        if v.get(key) and v[key] > today:
            row.issue(key, f"日期{v[key]:%Y-%m-%d}晚于今天")
    if v.get("closed_on") and v.get("assigned_on") and v["closed_on"] < v["assigned_on"]:
        row.issue("closed_on", "销号时间早于交办时间")
    _place(row, places)
    _key(row)


def _id_number(raw) -> str:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        # Excel keeps 15 significant digits: an 18-digit number typed as a number is already lost.
        raise CellError("身份证号被 Excel 存成了数字（末几位已丢失），请将该列设为文本后重新填写")
    value = text(raw)
    if not value:
        return ""
    try:
        return validate_id_number(value)
    except ValueError as e:
        raise CellError(str(e)) from None


def _place(row: LedgerRow, places: Places) -> None:
    """问题所属地 as "X乡(镇)Y村" in one column or as 乡镇 | 村 in two; L0 has only 住址, from which
    the township and village are taken when it names them (never an error there). L1 rows
    belong to their township, so it must be one of the jurisdiction's; a village not in the tree
    (and in L2 a township too) is kept as written."""
    v = row.values
    v["township_unit"] = v["village_unit"] = None
    code = row.layout.code
    if code == "L0":
        t_name, v_name = split_locality(v.get("address") or "")
        township = places.township(t_name) if t_name else None
        if township:
            v["township_unit"] = township
            v["village_unit"] = places.village(township, v_name) if v_name else None
            _switched_off(row, "address", "address")
        return
    t_key = "township" if "township" in row.columns else "locality"
    t_name, v_name = "", ""
    if "township" in row.columns:
        t_name, v_name = v.get("township") or "", v.get("village") or ""
        if t_name and not v_name:
            t_name, v_name = split_locality(t_name)
    if not t_name and not v_name and "locality" in row.columns:
        t_name, v_name = split_locality(v.get("locality") or "")
        t_key = "locality"
    if not t_name:
        if code == "L1":
            row.issue(
                t_key,
                f"“{v_name}”没有写明乡镇（应写作“X乡(镇)Y村”）"
                if v_name
                else "未填写问题所属地（乡镇）",
            )
        return
    township = places.township(t_name)
    if township is None:
        if code == "L1":
            row.issue(t_key, f"乡镇“{t_name}”不在本辖区")
        return
    v["township_unit"] = township
    if v_name:
        v["village_unit"] = places.village(township, v_name)
    _switched_off(row, t_key, "village" if "village" in row.columns else t_key)


def _switched_off(row: LedgerRow, township_key: str, village_key: str) -> None:
    """A township merged or a village switched off (乡镇撤并) is named in the row's place
    column: no case or register line is filed under it, as the registration form refuses it.
    Checked again, held, when the row is written (``services._places_held``)."""
    v = row.values
    for key, unit in ((township_key, v["township_unit"]), (village_key, v["village_unit"])):
        if unit is not None and not unit.is_active:
            row.issue(key, switched_off_text(unit))


def _key(row: LedgerRow) -> None:
    """The row's identity, independent of the file: L0 by its case number when it has one, else
    by who, when and what; L1 by who, when screened and what; L2 by who, first visit and what.
    Stored as a SHA-256 so the key itself holds no name."""
    v = row.values
    code = row.layout.code
    if code == "L0" and v.get("number"):
        parts = [code, "number", v["number"].replace(" ", "")]
        row.natural = f"编号 {v['number']}"
    else:
        when = {"L0": "assigned_on", "L1": "screened_on", "L2": "first_visit"}[code]
        parts = [
            code,
            (v.get("name") or "").replace(" ", ""),
            str(v.get(when) or ""),
            (v.get("problem") or "").replace(" ", ""),
        ]
    row.key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _mark_duplicates(rows: list[LedgerRow]) -> None:
    seen: dict[tuple[str, str], LedgerRow] = {}
    for row in rows:
        if row.issues:
            continue
        first = seen.setdefault((row.layout.code, row.key), row)
        if first is not row:
            row.status = "duplicate"
            row.note = f"与{first.sheet}第{first.row}行为同一条，只导入一次"
