"""Ledger exports (台账): L0, the case ledger of seed 000 §七, and the registers L1–L3 of seed 001
附件1–3, each laid out as FORMS.md gives it (``layouts``): title row, the "填报单位 / 联系电话"
block, one- or two-row header with its merged cells, footnotes, widths, frozen header, A4 landscape
fitted to the page width with the header rows repeated on every page. ``LEDGERS`` maps a ledger code
to its writer; the CLI, the API and the pages take their choices from it.

Whatever queryset a caller passes, the rows are the cases the membership may see: the export
intersects it with ``cases_for`` again, so a caller's mistake cannot widen it. Personal data (name,
address, phone) is masked — always by default (issue 8: a ledger leaves the system). An unmasked
export must give a reason, and even then reveals a petitioner only where the disclosure rule lets
this membership reveal them in bulk (the case's own petition office as clerk, approver or chief;
handling units, inspectors and upper offices read masked, and a confidential petitioner is never
revealed to a role that may not reveal them). Every export is written to the audit trail as
``export``, with the case numbers it contained, whether it was unmasked and why.

The workbook is streamed: rows come from the database in chunks with their petitioners, assignments
and demands read per chunk as tuples (no query per row, no model instance per row), and xlsxwriter
writes each row to disk as it goes (``constant_memory``), so memory stays flat however many rows
there are. """

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import IO

import xlsxwriter
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.disclosure import Reach, may_reveal_petitioner, register_reach, reveal_reach
from xinfang.cases.errors import Refused
from xinfang.cases.models import Assignment, Case, CasePetitioner, Demand, Petitioner
from xinfang.cases.paging import capped_count
from xinfang.cases.selectors import cases_for
from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.security.masking import mask_address, mask_name, mask_phone

from .layouts import L0, L1, L2, L3, Layout

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

L0_HEADERS = L0.headers
L0_SHEET = L0.sheet
REVEAL_ROLES = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF})
MAX_CELL = 32767  # Excel's limit for one cell's text
# Excel's rows in one sheet. xlsxwriter drops a cell written past them without a word (its
# write_* returns -1): a province's ledger of more lines would lose its last ones silently.
SHEET_ROWS = 1_048_576


def sheet_full(written: int, narrow_by: str) -> Refused:
    """The refusal of a table longer than one sheet (L0–L3 here, L4 in ``reports.l4``), after
    ``written`` lines, naming what to narrow it by."""
    return Refused(
        f"导出的行数超过 Excel 单个工作表的上限（{SHEET_ROWS:,} 行）：写满 {written:,} 行后仍有"
        f"未写的行，未导出任何文件。请按{narrow_by}等条件缩小范围后分批导出。", field="filters")
CHUNK = 2000  # rows read (and prefetched) per database round trip
REASON_MAX = 200




def unmasked_reason(*, unmasked: bool, reason: str | None) -> str:
    """The reason an unmasked export is asked for, checked: required, and short enough to
    audit. Raises ``Refused`` naming the ``reason`` field."""
    reason = (reason or "").strip()
    if not unmasked:
        return ""
    if not reason:
        raise Refused("导出未脱敏的台账须填写理由（将记入审计日志）。", field="reason")
    if len(reason) > REASON_MAX:
        raise Refused(f"理由不能超过{REASON_MAX}字。", field="reason")
    return reason


# One L0 line's parts, read as tuples (``values_list``), never as model instances: at 100,000 rows
# building a Case, its Petitioners, Assignments and Demands cost more than reading them.
_CASE = ("pk", "number", "matter", "state", "decline_reason", "guidance", "rating",
         "merged_into__number", "closed_at", "jurisdiction_id")
_LINK = ("case_id", "petitioner_id", "confidential")
_PERSON = ("pk", "confidential", "name", "address", "phone")
PEOPLE_HELD = 200_000  # people kept decrypted per export before the cache starts afresh
_ASSIGNMENT = ("case_id", "role", "unit__name", "responsible_person", "assigned_at")
_DEMAND = ("case_id", "seq", "text", "category", "finding", "resolution_class")


@dataclass(slots=True)
class _Line:
    """A case of the L0 ledger with what its row shows: its main petitioners ``(link
    confidential, _Person)``, its handling assignments
    ``(role, unit name, responsible person, assigned at)`` in assignment order, and its demands
    ``(seq, text, category, finding, resolution class)`` in order."""

    pk: int
    number: str
    matter: str
    state: str
    decline_reason: str
    guidance: str
    rating: str
    merged_into_number: str | None
    closed_at: object
    jurisdiction_id: int
    people: list = field(default_factory=list)
    handling: list = field(default_factory=list)
    demands: list = field(default_factory=list)


class _Person:
    """A petitioner as the export shows them: decrypted once per export, however many of its
    cases name them (repeat petitioners: in a county's ledger half the lines name someone seen
    before), and masked once."""

    __slots__ = ("confidential", "name", "address", "phone", "_masked")

    def __init__(self, confidential: bool, name: str, address: str, phone: str):
        self.confidential, self.name, self.address, self.phone = (
            confidential, name, address, phone)
        self._masked: tuple[str, str, str] | None = None

    def masked(self) -> tuple[str, str, str]:
        if self._masked is None:
            self._masked = (mask_name(self.name), mask_address(self.address),
                            mask_phone(self.phone))
        return self._masked


def _lines_of(qs: QuerySet[Case]):
    """The cases in ledger order as ``_Line``s, read a chunk at a time: at most five queries per
    chunk (the chunk's cases, their petitioner links, the people not met before in this export,
    the assignments, the demands), whatever its size."""
    rows = qs.order_by("jurisdiction__path", "year", "seq").values_list(*_CASE)
    it = rows.iterator(chunk_size=CHUNK)
    people: dict[int, _Person] = {}
    while chunk := [_Line(*row) for row in islice(it, CHUNK)]:
        by_pk = {line.pk: line for line in chunk}
        among = probes.among("case_id", tuple(by_pk))  # one array on PostgreSQL
        links = list(CasePetitioner.objects.filter(among, role__in=c.PETITIONING_ROLES)
                     .order_by("pk").values_list(*_LINK))
        if len(people) > PEOPLE_HELD:
            people.clear()  # memory stays bounded however large the export
        # The ledger never shows the ID number: not read, so not decrypted 100,000 times.
        if missing := {pid for _c, pid, _l in links} - people.keys():
            for pk, *person in Petitioner.objects.filter(
                    probes.among("id", tuple(missing))).values_list(*_PERSON):
                people[pk] = _Person(*person)
        for case_id, pid, link_confidential in links:
            by_pk[case_id].people.append((link_confidential, people[pid]))
        for case_id, *assignment in (Assignment.objects.filter(among)
                                     .exclude(status=c.AssignmentStatus.TRANSFERRED)
                                     .order_by("assigned_at", "pk").values_list(*_ASSIGNMENT)):
            by_pk[case_id].handling.append(assignment)
        for case_id, *demand in (Demand.objects.filter(among).order_by("seq")
                                 .values_list(*_DEMAND)):
            by_pk[case_id].demands.append(demand)
        yield from chunk


def _by_case(rows) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.case_id, []).append(row)
    return grouped


def _local(dt):
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def _matter(line: _Line) -> str:
    demands = "；".join(f"{seq}. {text}" for seq, text, *_rest in line.demands)
    return f"{line.matter}\n主要诉求：{demands}" if demands else line.matter


def _categories(line: _Line) -> str:
    return "、".join(dict.fromkeys(category for _s, _t, category, *_rest in line.demands))


class _Labels:
    """Choice labels translated once per export: get_FOO_display() resolves a lazy translation
    on every call, which at 100,000 rows costs more than the query."""

    def __init__(self):
        def table(choices):
            return {value: str(label) for value, label in choices}

        self.state = table(c.State.choices)
        self.finding = table(c.Finding.choices)
        self.resolution = table(c.ResolutionClass.choices)
        self.rating = table(c.Rating.choices)
        self.role = table(c.AssignmentRole.choices)


def _units(line: _Line, labels: _Labels) -> str:
    if len(line.handling) == 1:
        return line.handling[0][1]
    return "、".join(f"{unit}（{labels.role.get(role, role)}）" for role, unit, *_rest in sorted(
        line.handling, key=lambda a: a[0] != c.AssignmentRole.LEAD))


def _lead(line: _Line) -> tuple | None:
    leads = [a for a in line.handling if a[0] == c.AssignmentRole.LEAD]
    return leads[-1] if leads else None


def _progress(line: _Line, labels: _Labels) -> str:
    parts = [labels.state.get(line.state, line.state)]
    if line.state == c.State.DECLINED:
        parts.append(f"不予受理：{line.decline_reason}；已引导：{line.guidance}")
    findings = [f"诉求{seq}{labels.finding.get(finding, finding)}"
                + (f"（{labels.resolution.get(resolution, resolution)}）" if resolution else "")
                for seq, _text, _category, finding, resolution in line.demands if finding]
    if findings:
        parts.append("核查：" + "，".join(findings))
    if line.rating:
        parts.append(f"满意度：{labels.rating.get(line.rating, line.rating)}")
    if line.merged_into_number:
        parts.append(f"已并入{line.merged_into_number}")
    return "；".join(parts)


class _CaseReach:
    """``reveal_reach`` of an export's cases in bulk, asked once per jurisdiction: with ``bulk``
    it depends on nothing of the case but its jurisdiction (the case's own petition office
    reveals, no one else does). Masked exports ask nothing."""

    def __init__(self, by: Membership, unmasked: bool):
        self.by, self.unmasked, self.seen = by, unmasked, {}

    def of(self, jurisdiction_id: int) -> Reach:
        if not self.unmasked:
            return Reach.NONE
        if jurisdiction_id not in self.seen:
            from xinfang.org.models import Unit

            case = Case(jurisdiction=Unit.objects.get(pk=jurisdiction_id))
            self.seen[jurisdiction_id] = reveal_reach(case, self.by, bulk=True)
        return self.seen[jurisdiction_id]


def _may_reveal(reach: Reach, *, link_confidential: bool, confidential: bool) -> bool:
    """``may_reveal_petitioner`` for a petitioner read with their link to the case (so the link
    exists) under the case's ``reach``: no one without reach, everyone with all of it, and with
    ordinary reach everyone but a person who asked for confidentiality here or anywhere."""
    if reach is Reach.NONE:
        return False
    return reach is Reach.ALL or not (confidential or link_confidential)


def _people(line: _Line, reach: Reach) -> tuple[str, str, str, bool]:
    """Name, address and phone cells of the main petitioners, each person in clear only where
    ``reach`` lets the exporting membership reveal that person in bulk; and whether anyone was
    shown in clear."""
    names, addresses, phones, anyone = [], [], [], False
    for link_confidential, person in line.people:
        if _may_reveal(reach, link_confidential=link_confidential,
                       confidential=person.confidential):
            anyone = True
            name, address, phone = person.name, person.address, person.phone
        else:
            name, address, phone = person.masked()
        names.append(name)
        if person.address:
            addresses.append(address)
        if person.phone:
            phones.append(phone)
    return "、".join(names), "；".join(addresses), "、".join(phones), anyone


@dataclass
class Exported:
    rows: int
    revealed_rows: int
    # the cases the file holds, for a background export's download to check that each is still
    # in its reader's door (``jobs.selectors.file_withheld``)
    case_ids: list[int] = field(default_factory=list)


def ledger_l0(cases: Iterable[Case] | QuerySet[Case], *, by: Membership, ip: str = "",
              filters: dict | None = None, via: str = "api", unmasked: bool = False,
              reason: str = "") -> bytes:
    """The L0 case ledger as XLSX bytes (small exports and tests; large ones use
    ``write_ledger_l0`` to a file)."""
    with tempfile.TemporaryFile() as out:
        write_ledger_l0(out, cases, by=by, ip=ip, filters=filters, via=via, unmasked=unmasked,
                        reason=reason)
        out.seek(0)
        return out.read()


def waited_file(write, cases, *, by: Membership, counted: QuerySet | None, limit: int,
                what: str = "", **options) -> IO[bytes]:
    """``write(out, cases, by=by, **options)``'s file for a person waiting on the download, in
    an anonymous temporary file, rewound: a response streams it and closing it deletes it.
    More than ``limit`` rows of ``counted`` (``what``: what they are) are refused before
    anything is written, pointing to the background export, which writes any number."""
    if counted is not None and capped_count(counted, limit) > limit:
        raise Refused(
            f"本次导出{what}超过 {limit:,} 件，直接下载会超时：请用“后台导出”（完成后在后台任务页"
            "下载），或按时间、乡镇等条件缩小范围。", field="filters")
    out = tempfile.TemporaryFile()
    try:
        write(out, cases, by=by, **options)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def ledger_l0_file(cases, *, by: Membership, **options) -> IO[bytes]:
    """The L0 ledger for a person waiting on it: more cases than ``XINFANG_EXPORT_WAIT_ROWS``
    are refused (the background export, ``jobs.kinds.ledger_l0``, writes any number)."""
    return waited_file(write_ledger_l0, cases, by=by, limit=settings.XINFANG_EXPORT_WAIT_ROWS,
                       counted=cases if isinstance(cases, QuerySet) else None, **options)


class LedgerBook:
    """One ledger sheet written row by row to ``out`` (xlsxwriter ``constant_memory``: each row
    goes to disk as the next begins, so nothing is held but the current row).

    In constant-memory mode a row cannot be touched once a later one is written, and
    ``merge_range`` pads every cell of its range — a two-row merge would close the first header
    row before its other cells are written. The header cells are therefore written row by row
    and their merges registered afterwards (``Worksheet.merge``, what ``merge_range`` records)."""

    def __init__(self, out: IO[bytes] | str, layout: Layout, *, by: Membership):
        self.layout = layout
        self.book = book = xlsxwriter.Workbook(out, {
            "constant_memory": True, "in_memory": False, "strings_to_formulas": False,
            "strings_to_urls": False, "strings_to_numbers": False})
        base = {"font_name": "宋体", "font_size": 10}
        self.fmt_title = book.add_format({**base, "bold": True, "font_size": 16,
                                          "align": "center", "valign": "vcenter"})
        self.fmt_block = book.add_format({**base, "font_size": 11, "valign": "vcenter"})
        self.fmt_header = book.add_format({**base, "bold": True, "align": "center",
                                           "valign": "vcenter", "border": 1, "text_wrap": True,
                                           "bg_color": "#D9E1F2"})
        self.fmt_text = book.add_format({**base, "valign": "top", "text_wrap": True, "border": 1})
        self.fmt_center = book.add_format({**base, "valign": "top", "align": "center",
                                           "border": 1})
        self.fmt_date = book.add_format({**base, "valign": "top", "align": "center", "border": 1,
                                         "num_format": "yyyy-mm-dd"})
        self.fmt_datetime = book.add_format({**base, "valign": "top", "border": 1,
                                             "num_format": "yyyy-mm-dd hh:mm"})
        self.fmt_note = book.add_format({**base, "valign": "top", "text_wrap": True})
        self.sheet = sheet = book.add_worksheet(layout.sheet)
        last = len(layout.columns) - 1
        for col, column in enumerate(layout.columns):
            sheet.set_column(col, col, column.width)
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, last, layout.title, self.fmt_title)
        if layout.block:
            half = (last + 1) // 2
            phone = by.unit.phone or ""
            sheet.set_row(1, 20)
            sheet.merge_range(1, 0, 1, half - 1, f"填报单位：{by.unit.name}", self.fmt_block)
            sheet.merge_range(1, half, 1, last, f"联系电话：{phone}", self.fmt_block)
        self._header()
        first, rows = layout.first_header_row, layout.header_rows
        sheet.freeze_panes(first + rows, 0)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        sheet.center_horizontally()
        sheet.repeat_rows(first, first + rows - 1)
        sheet.fit_to_pages(1, 0)  # the table as wide as the page, as many pages down as it needs
        sheet.set_footer("&C第 &P 页，共 &N 页")
        self.row = layout.first_data_row
        self.formats = {"text": self.fmt_text, "number": self.fmt_center,
                        "date": self.fmt_date, "datetime": self.fmt_datetime}

    def _header(self) -> None:
        layout, sheet, fmt = self.layout, self.sheet, self.fmt_header
        top = layout.first_header_row
        if layout.header_rows == 1:
            sheet.set_row(top, 36)
            for col, column in enumerate(layout.columns):
                sheet.write_string(top, col, column.title, fmt)
            return
        sheet.set_row(top, 24)
        sheet.set_row(top + 1, 72)
        merges: list[tuple[int, int, int, int]] = []
        col = 0
        columns = layout.columns
        while col < len(columns):  # the upper row: single headings and the group headings
            group = columns[col].group
            if not group:
                sheet.write_string(top, col, columns[col].title, fmt)
                merges.append((top, col, top + 1, col))
                col += 1
                continue
            end = col
            while end + 1 < len(columns) and columns[end + 1].group == group:
                end += 1
            sheet.write_string(top, col, group, fmt)
            for other in range(col + 1, end + 1):
                sheet.write_blank(top, other, None, fmt)
            if end > col:
                merges.append((top, col, top, end))
            col = end + 1
        for col, column in enumerate(columns):  # the lower row: the grouped columns' own titles
            if column.group:
                sheet.write_string(top + 1, col, column.title, fmt)
            else:
                sheet.write_blank(top + 1, col, None, fmt)
        for first_row, first_col, last_row, last_col in merges:
            sheet.merge.append([first_row, first_col, last_row, last_col])

    def write(self, values: list) -> None:
        sheet, r = self.sheet, self.row
        notes = self.layout.footnotes
        if r + (len(notes) + 1 if notes else 0) >= SHEET_ROWS:  # the notes follow a blank row
            raise sheet_full(r - self.layout.first_data_row, "时间、乡镇")
        for col, (value, column) in enumerate(zip(values, self.layout.columns, strict=True)):
            fmt = self.formats[column.kind]
            if value is None or value == "":
                sheet.write_blank(r, col, None, fmt)
            elif isinstance(value, str):
                # write_string: a petitioner's "=HYPERLINK(…)" stays text, never a formula
                sheet.write_string(r, col, value[:MAX_CELL], fmt)
            elif isinstance(value, bool):
                sheet.write_string(r, col, "是" if value else "否", self.fmt_center)
            elif isinstance(value, int | float):
                sheet.write_number(r, col, value, fmt)
            else:
                sheet.write_datetime(r, col, value, fmt)
        self.row += 1

    def close(self) -> None:
        layout, sheet = self.layout, self.sheet
        last = len(layout.columns) - 1
        header_last = layout.first_data_row - 1
        if self.row > layout.first_data_row:
            sheet.autofilter(header_last, 0, self.row - 1, last)
        r = self.row + (1 if layout.footnotes else 0)
        for note in layout.footnotes:
            sheet.merge_range(r, 0, r, last, note, self.fmt_note)
            r += 1
        self.book.close()


Progress = Callable[[int, int], None]


def _yes(value: bool | None):
    """A yes-mark cell: 是 / 否, blank when not asked."""
    return None if value is None else ("是" if value else "否")


def _write(layout: Layout, out, rows, *, by: Membership, total: int | None,
           progress: Progress | None) -> tuple[int, int, list]:
    """Write ``rows`` (each ``(values, revealed, key)``) under ``layout``; report progress every
    chunk. Returns (rows written, rows with someone in clear, the keys for the audit entry)."""
    book = LedgerBook(out, layout, by=by)
    written = revealed = 0
    keys: list = []
    try:
        for values, clear, key in rows:
            book.write(values)
            written += 1
            revealed += clear
            keys.append(key)
            if progress is not None and written % CHUNK == 0:
                progress(written, total or written)
    finally:
        book.close()
    if progress is not None:
        progress(written, written)
    return written, revealed, keys


def _audit_export(code: str, *, by: Membership, ip: str, via: str, rows: int, revealed: int,
                  unmasked: bool, reason: str, filters: dict | None, keys_name: str,
                  keys: list) -> None:
    audit_record(
        action=EXPORT, actor=by.user, object_type="ledger", object_id=code, ip=ip,
        detail={"ledger": code, "via": via, "membership": by.pk, "role": by.role,
                "unit": by.unit.name, "rows": rows, "revealed_rows": revealed,
                "unmasked": unmasked, "reason": reason,
                "filters": filters or {}, keys_name: keys},
    )


def _count(qs, progress: Progress | None) -> int | None:
    return qs.count() if progress is not None and isinstance(qs, QuerySet) else None


# -- L0 -------------------------------------------------------------------------------------------


def write_ledger_l0(out: IO[bytes] | str, cases: Iterable[Case] | QuerySet[Case], *,
                    by: Membership, ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "",
                    progress: Progress | None = None) -> Exported:
    """Write the L0 case ledger of the cases ``by`` may see among ``cases`` to ``out`` (a path or
    a seekable binary file), masked unless ``unmasked`` with a ``reason``; audit it."""
    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    ids = cases.values("pk") if isinstance(cases, QuerySet) else [case.pk for case in cases]
    visible = cases_for(by).filter(pk__in=ids)
    labels = _Labels()
    reach = _CaseReach(by, unmasked)
    case_ids: list[int] = []

    def rows():
        for line in _lines_of(visible):
            case_ids.append(line.pk)
            name, address, phone, clear = _people(line, reach.of(line.jurisdiction_id))
            lead = _lead(line)
            yield ([line.number, name, address, phone, _matter(line), _categories(line),
                    _units(line, labels), lead[2] if lead else "",
                    _local(lead[3]) if lead else None, _progress(line, labels),
                    _local(line.closed_at)], clear, line.number)

    written, revealed, numbers = _write(L0, out, rows(), by=by, total=_count(visible, progress),
                                        progress=progress)
    _audit_export("L0", by=by, ip=ip, via=via, rows=written, revealed=revealed,
                  unmasked=unmasked, reason=reason, filters=filters, keys_name="cases",
                  keys=numbers)
    return Exported(rows=written, revealed_rows=revealed, case_ids=case_ids)


# -- L1 -------------------------------------------------------------------------------------------


class _UnitNames:
    """Unit names by id, read once per chunk for the ids the chunk names (one query a chunk,
    not a joined unit row per line: a register names a few hundred units over 100,000 lines)."""

    FIELDS = ("township_id", "village_id", "responsible_unit_id")

    def __init__(self):
        self.names: dict[int, str] = {}

    def chunks(self, qs):
        it = qs.iterator(chunk_size=CHUNK)
        while chunk := list(islice(it, CHUNK)):
            wanted = {getattr(row, f) for row in chunk for f in self.FIELDS} - {None}
            wanted -= self.names.keys()
            if wanted:
                from xinfang.org.models import Unit

                self.names.update(Unit.objects.filter(pk__in=wanted).values_list("pk", "name"))
            yield chunk

    def locality(self, row) -> str:
        if row.locality_text:
            return row.locality_text
        return "".join(self.names.get(pk, "") for pk in (row.township_id, row.village_id) if pk)

    def responsible(self, row) -> str:
        if row.responsible_unit_id:
            return self.names.get(row.responsible_unit_id, "")
        return row.responsible_unit_text


class _Reach:
    """``register_reach`` once per jurisdiction of an export, not per row."""

    def __init__(self, by: Membership, unmasked: bool):
        self.by, self.unmasked, self.seen = by, unmasked, {}

    def clear(self, jurisdiction_id: int) -> bool:
        if not self.unmasked:
            return False
        if jurisdiction_id not in self.seen:
            from xinfang.org.models import Unit

            unit = Unit.objects.get(pk=jurisdiction_id)
            self.seen[jurisdiction_id] = register_reach(unit, self.by) is Reach.ALL
        return self.seen[jurisdiction_id]


def write_ledger_l1(out: IO[bytes] | str, findings: QuerySet | None = None, *, by: Membership,
                    ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "",
                    progress: Progress | None = None) -> Exported:
    """The L1 screening ledger of the findings ``by`` may see (``findings_for``) among
    ``findings``; names and phones masked unless ``unmasked`` with a reason and ``by`` is the
    office of the line's jurisdiction."""
    from xinfang.registers.selectors import findings_for

    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    qs = findings_for(by)
    if findings is not None:
        qs = qs.filter(pk__in=findings.values("pk"))
    qs = qs.defer("name_index", "recorded_at", "updated_at").order_by("screened_on", "pk")
    reach = _Reach(by, unmasked)
    units = _UnitNames()

    def rows():
        n = 0
        for chunk in units.chunks(qs):
            for f in chunk:
                n += 1
                clear = reach.clear(f.jurisdiction_id)
                yield ([n, f.screened_on, f.person_name if clear else mask_name(f.person_name),
                        f.contact if clear else mask_phone(f.contact),
                        _yes(f.exited_or_monitored), units.locality(f), f.problem, f.category,
                        _yes(f.is_new), units.responsible(f), _yes(f.solved), _yes(f.guided),
                        _yes(f.assisted), _yes(f.dealt_by_law), _yes(f.stable), f.note],
                       clear, f.pk)

    written, revealed, ids = _write(L1, out, rows(), by=by, total=_count(qs, progress),
                                    progress=progress)
    _audit_export("L1", by=by, ip=ip, via=via, rows=written, revealed=revealed,
                  unmasked=unmasked, reason=reason, filters=filters, keys_name="findings",
                  keys=ids)
    return Exported(rows=written, revealed_rows=revealed)


# -- L2 -------------------------------------------------------------------------------------------


def _backlog_rows(qs, units: _UnitNames):
    """Backlog lines a chunk at a time, each case-linked one with its main petitioners
    (one query per chunk) and the chunk's unit names (one more). A line without a case shows
    its own name and contact, read for those lines only (one more, when the chunk has any): the
    line's own copy of a case's person is never shown, and decrypting it for every line was a
    tenth of a county's export (lead33). Of a petitioner, the name and phone are decrypted."""
    from xinfang.registers.models import BacklogCase

    for chunk in units.chunks(qs):
        case_ids = [b.case_id for b in chunk if b.case_id]
        mains = _by_case(CasePetitioner.objects.filter(case_id__in=case_ids,
                                                       role__in=c.PETITIONING_ROLES)
                         .select_related("petitioner")
                         .defer("petitioner__id_number", "petitioner__address")
                         .order_by("pk")) if case_ids else {}
        caseless = [b.pk for b in chunk if not b.case_id]
        own = {pk: (name, contact) for pk, name, contact in BacklogCase.objects.filter(
            pk__in=caseless).values_list("pk", "person_name", "contact")} if caseless else {}
        for b in chunk:
            b.main_links = mains.get(b.case_id, [])
            if not b.case_id:
                b.__dict__["person_name"], b.__dict__["contact"] = own[b.pk]
        yield from chunk


def _leader(b) -> str:
    user = b.owner_leader
    if user is None:
        return b.owner_leader_text
    return user.full_name or user.get_full_name() or user.username


def write_ledger_l2(out: IO[bytes] | str, lines: QuerySet | None = None, *, by: Membership,
                    ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "",
                    progress: Progress | None = None) -> Exported:
    """The L2 backlog ledger of the lines ``by`` may see (``backlog_for``) among ``lines``. A
    line tied to a case shows that case's main petitioners through the disclosure rule (a
    confidential person stays masked); a line without a case its own name and phone, in clear
    only for the office of its jurisdiction in an unmasked export."""
    from xinfang.registers.selectors import backlog_for

    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    qs = backlog_for(by)
    if lines is not None:
        qs = qs.filter(pk__in=lines.values("pk"))
    qs = (qs.select_related("owner_leader", "case", "case__jurisdiction")
          .only(*_l2_columns())
          .order_by("designated_at", "pk"))
    reach = _Reach(by, unmasked)
    units = _UnitNames()

    def rows():
        for n, b in enumerate(_backlog_rows(qs, units), start=1):
            if b.case_id:
                case = b.case
                case_reach = reveal_reach(case, by, bulk=True) if unmasked else None
                people = [(lk.petitioner, unmasked and may_reveal_petitioner(
                    case, lk.petitioner, by, link=lk, bulk=True, reach=case_reach))
                    for lk in b.main_links]
                name = "、".join(p.name if ok else mask_name(p.name) for p, ok in people)
                phone = "、".join(p.phone if ok else mask_phone(p.phone)
                                 for p, ok in people if p.phone)
                clear = any(ok for _p, ok in people)
                key = case.number
            else:
                clear = reach.clear(b.jurisdiction_id)
                name = b.person_name if clear else mask_name(b.person_name)
                phone = b.contact if clear else mask_phone(b.contact)
                key = f"#{b.pk}"
            yield ([n, b.first_petition_on, name, phone, _yes(b.exited_or_monitored),
                    units.locality(b), b.problem, b.category, b.reason, _leader(b),
                    units.responsible(b),
                    _yes(b.solved), _yes(b.guided), _yes(b.assisted), _yes(b.dealt_by_law),
                    _yes(b.stable), _backlog_note(b)], clear, key)

    written, revealed, keys = _write(L2, out, rows(), by=by, total=_count(qs, progress),
                                     progress=progress)
    _audit_export("L2", by=by, ip=ip, via=via, rows=written, revealed=revealed,
                  unmasked=unmasked, reason=reason, filters=filters, keys_name="lines",
                  keys=keys)
    return Exported(rows=written, revealed_rows=revealed)


def _l2_columns() -> list[str]:
    """What an L2 line reads: the line's own columns but its index, plan, bookkeeping and person
    (``_backlog_rows`` reads that of the lines without a case), and of
    its case only the number and what the disclosure rule asks of its jurisdiction (the case's
    55 columns made model rows took a quarter of a county's 4,800-line export, lead25)."""
    from xinfang.registers.models import BacklogCase

    skipped = {"name_index", "updated_at", "plan", "designated_by", "resolved_by", "person_name",
               "contact"}
    own = [f.name for f in BacklogCase._meta.concrete_fields if f.name not in skipped]
    return [*own, "case__number", "case__jurisdiction__level",
            "case__jurisdiction__profile_code", "owner_leader__username",
            "owner_leader__full_name", "owner_leader__first_name", "owner_leader__last_name"]


def _backlog_note(b) -> str:
    parts = [b.note] if b.note else []
    if b.resolved_at:
        when = timezone.localtime(b.resolved_at).date().isoformat()
        parts.append(f"已化解（{when}）：{b.outcome}")
    return "；".join(parts)


# -- L3 -------------------------------------------------------------------------------------------


def write_ledger_l3(out: IO[bytes] | str, entries: QuerySet | None = None, *, by: Membership,
                    ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "",
                    progress: Progress | None = None) -> Exported:
    """The L3 staff roster of the units ``by`` may see (``roster_for``). Staff contacts are work
    contacts, not petitioners': nothing to mask; ``unmasked`` changes nothing but is still
    checked and audited like every export's."""
    from xinfang.registers.selectors import roster_for

    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    qs = roster_for(by)
    if entries is not None:
        qs = qs.filter(pk__in=entries.values("pk"))
    qs = qs.select_related("unit").order_by("unit__path", "pk")

    def rows():
        for n, e in enumerate(qs.iterator(chunk_size=CHUNK), start=1):
            yield ([n, e.unit.name, e.leader_name, e.leader_position, e.leader_office_phone,
                    e.leader_mobile, e.clerk_name, e.clerk_office_phone, e.clerk_mobile],
                   False, e.unit.name)

    written, revealed, keys = _write(L3, out, rows(), by=by, total=_count(qs, progress),
                                     progress=progress)
    _audit_export("L3", by=by, ip=ip, via=via, rows=written, revealed=revealed,
                  unmasked=unmasked, reason=reason, filters=filters, keys_name="units",
                  keys=keys)
    return Exported(rows=written, revealed_rows=revealed)


# Ledger code → writer, in the order offered to users. Each takes (out, rows-or-None, *, by, ip,
# filters, via, unmasked, reason, progress). Another ledger joins by adding itself here.
LEDGERS: dict[str, Callable[..., Exported]] = {
    "l0": write_ledger_l0,
    "l1": write_ledger_l1,
    "l2": write_ledger_l2,
    "l3": write_ledger_l3,
}
LEDGER_TITLES = {"l0": L0.title, "l1": L1.title, "l2": L2.title, "l3": L3.title}


def ledger_file(code: str, rows, *, by: Membership, **options) -> IO[bytes]:
    """Ledger ``code`` in an anonymous temporary file, rewound: a response streams it and
    closing it deletes it."""
    out = tempfile.TemporaryFile()
    try:
        LEDGERS[code](out, rows, by=by, **options)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def ledger_bytes(code: str, rows=None, *, by: Membership, **options) -> bytes:
    with tempfile.TemporaryFile() as out:
        LEDGERS[code](out, rows, by=by, **options)
        out.seek(0)
        return out.read()
