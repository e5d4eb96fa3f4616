"""Ledger exports (台账). L0, the case ledger of seed 000 §七, with the columns of FORMS.md exactly.

Whatever queryset a caller passes, the rows are the cases the membership may see: the export
intersects it with ``cases_for`` again, so a caller's mistake cannot widen it. Personal data
(name, address, phone) is masked — always by default (issue 8: a ledger leaves the system). An
unmasked export must give a reason, and even then reveals a petitioner only where the
disclosure rule lets this membership reveal them in bulk (the case's own petition office as
clerk, approver or chief; handling units, inspectors and upper offices read masked, and a
confidential petitioner is never revealed to a role that may not reveal them). Every export is
written to the audit trail as ``export``, with the case numbers it contained, whether it was
unmasked and why.

The workbook is streamed: rows come from the database in chunks with their petitioners,
assignments and demands prefetched per chunk (no query per row), and xlsxwriter writes each row
to disk as it goes (``constant_memory``), so memory stays flat however many rows there are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import IO

import xlsxwriter
from django.db.models import F, QuerySet
from django.utils import timezone

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases import choices as c
from xinfang.cases.disclosure import may_reveal_petitioner, reveal_reach
from xinfang.cases.errors import Refused
from xinfang.cases.models import Assignment, Case, CasePetitioner, Demand
from xinfang.cases.selectors import cases_for
from xinfang.org.choices import Role
from xinfang.org.models import Membership
from xinfang.security.masking import mask_address, mask_name, mask_phone

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

L0_HEADERS = ("编号", "信访人姓名", "住址", "电话", "反映问题及主要诉求", "问题类别", "承办单位",
              "责任人", "交办时间", "处理情况", "销号时间")
L0_WIDTHS = (24, 14, 30, 16, 50, 16, 28, 10, 17, 40, 17)
L0_SHEET = "信访事项台账"
REVEAL_ROLES = frozenset({Role.CLERK, Role.APPROVER, Role.CHIEF})
MAX_CELL = 32767  # Excel's limit for one cell's text
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


def _rows_of(qs: QuerySet[Case]):
    """The cases in ledger order, each with ``main_links``, ``handling`` and ``demand_list``,
    read a chunk at a time: three queries per chunk, whatever its size. (Django's own
    prefetch_related builds a queryset per row and sets a back reference per related row, which
    at 100,000 rows cost more than the rows themselves.)"""
    # The merged-into case is named by its number only: not a second case row joined per row.
    rows = qs.select_related("jurisdiction").annotate(
        merged_into_number=F("merged_into__number")).order_by("jurisdiction__path", "year", "seq")
    it = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(it, CHUNK)):
        ids = [case.pk for case in chunk]
        # The ledger never shows the ID number: not read, so not decrypted 100,000 times.
        mains = _by_case(CasePetitioner.objects.filter(case_id__in=ids, role=c.PetitionerRole.MAIN)
                         .select_related("petitioner").defer("petitioner__id_number")
                         .order_by("pk"))
        handling = _by_case(Assignment.objects.filter(case_id__in=ids)
                            .exclude(status=c.AssignmentStatus.TRANSFERRED)
                            .select_related("unit").order_by("assigned_at", "pk"))
        demands = _by_case(Demand.objects.filter(case_id__in=ids).order_by("seq"))
        for case in chunk:
            case.main_links = mains.get(case.pk, [])
            case.handling = handling.get(case.pk, [])
            case.demand_list = demands.get(case.pk, [])
        yield from chunk


def _by_case(rows) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.case_id, []).append(row)
    return grouped


def _local(dt):
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def _matter(case: Case) -> str:
    demands = "；".join(f"{d.seq}. {d.text}" for d in case.demand_list)
    return f"{case.matter}\n主要诉求：{demands}" if demands else case.matter


def _categories(case: Case) -> str:
    return "、".join(dict.fromkeys(d.category for d in case.demand_list))


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


def _units(case: Case, labels: _Labels) -> str:
    if len(case.handling) == 1:
        return case.handling[0].unit.name
    return "、".join(f"{a.unit.name}（{labels.role.get(a.role, a.role)}）" for a in sorted(
        case.handling, key=lambda a: a.role != c.AssignmentRole.LEAD))


def _lead(case: Case) -> Assignment | None:
    leads = [a for a in case.handling if a.role == c.AssignmentRole.LEAD]
    return leads[-1] if leads else None


def _progress(case: Case, labels: _Labels) -> str:
    parts = [labels.state.get(case.state, case.state)]
    if case.state == c.State.DECLINED:
        parts.append(f"不予受理：{case.decline_reason}；已引导：{case.guidance}")
    findings = [f"诉求{d.seq}{labels.finding.get(d.finding, d.finding)}"
                + (f"（{labels.resolution.get(d.resolution_class, d.resolution_class)}）"
                   if d.resolution_class else "")
                for d in case.demand_list if d.finding]
    if findings:
        parts.append("核查：" + "，".join(findings))
    if case.rating:
        parts.append(f"满意度：{labels.rating.get(case.rating, case.rating)}")
    if case.merged_into_id:
        parts.append(f"已并入{case.merged_into_number}")
    return "；".join(parts)


def _people(case: Case, by: Membership, unmasked: bool) -> tuple[str, str, str, bool]:
    """Name, address and phone cells of the main petitioners, each person shown in clear only in
    an unmasked export and only where the disclosure rule lets ``by`` reveal that person in bulk;
    and whether anyone was shown in clear."""
    reach = reveal_reach(case, by, bulk=True) if unmasked else None
    people = [(link.petitioner,
               unmasked and may_reveal_petitioner(case, link.petitioner, by, link=link,
                                                  bulk=True, reach=reach))
              for link in case.main_links]
    name = "、".join(p.name if clear else mask_name(p.name) for p, clear in people)
    address = "；".join(p.address if clear else mask_address(p.address)
                       for p, clear in people if p.address)
    phone = "、".join(p.phone if clear else mask_phone(p.phone) for p, clear in people if p.phone)
    return name, address, phone, any(clear for _p, clear in people)


@dataclass
class Exported:
    rows: int
    revealed_rows: int


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


def ledger_l0_file(cases, *, by: Membership, **options) -> IO[bytes]:
    """The L0 ledger in an anonymous temporary file, rewound: a response streams it and
    closing it deletes it."""
    out = tempfile.TemporaryFile()
    try:
        write_ledger_l0(out, cases, by=by, **options)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def write_ledger_l0(out: IO[bytes] | str, cases: Iterable[Case] | QuerySet[Case], *,
                    by: Membership, ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "") -> Exported:
    """Write the L0 case ledger of the cases ``by`` may see among ``cases`` to ``out`` (a path or
    a seekable binary file), masked unless ``unmasked`` with a ``reason``; audit it."""
    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    ids = cases.values("pk") if isinstance(cases, QuerySet) else [case.pk for case in cases]
    rows = _rows_of(cases_for(by).filter(pk__in=ids))

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False,
                                     "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    header = book.add_format({"bold": True, "align": "center", "valign": "vcenter",
                              "border": 1, "text_wrap": True, "bg_color": "#D9E1F2"})
    text = book.add_format({"valign": "top", "text_wrap": True, "border": 1})
    when = book.add_format({"valign": "top", "border": 1, "num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet(L0_SHEET)
    for col, width in enumerate(L0_WIDTHS):
        sheet.set_column(col, col, width)
    for col, title in enumerate(L0_HEADERS):
        sheet.write_string(0, col, title, header)
    sheet.freeze_panes(1, 0)

    labels = _Labels()
    revealed = 0
    numbers: list[str] = []
    r = 0
    for r, case in enumerate(rows, start=1):
        name, address, phone, clear = _people(case, by, unmasked)
        revealed += clear
        numbers.append(case.number)
        lead = _lead(case)
        values = [case.number, name, address, phone, _matter(case), _categories(case),
                  _units(case, labels), lead.responsible_person if lead else "",
                  _local(lead.assigned_at) if lead else None, _progress(case, labels),
                  _local(case.closed_at)]
        for col, value in enumerate(values):
            if value is None:
                sheet.write_blank(r, col, None, text)
            elif isinstance(value, str):
                # write_string: a petitioner's "=HYPERLINK(…)" stays text, never a formula
                sheet.write_string(r, col, value[:MAX_CELL], text)
            else:
                sheet.write_datetime(r, col, value, when)
    sheet.autofilter(0, 0, max(r, 1), len(L0_HEADERS) - 1)
    book.close()

    audit_record(
        action=EXPORT, actor=by.user, object_type="ledger", object_id="L0", ip=ip,
        detail={"ledger": "L0", "via": via, "membership": by.pk, "role": by.role,
                "unit": by.unit.name, "rows": len(numbers), "revealed_rows": revealed,
                "unmasked": unmasked, "reason": reason,
                "filters": filters or {}, "cases": numbers},
    )
    return Exported(rows=len(numbers), revealed_rows=revealed)
