"""L4 — 省级交办信访事项办理情况统计表 (seed 001 附件4; FORMS.md): the table the county's
poverty-alleviation office sends to the city every Friday with the provincial cases completed that
week.

Layout as the seed draws it: a title, the "填报单位 / 联系电话" block, a two-row header with merged
cells (问题属地 over 省辖市 | 县（市、区）, 问题类别 over its twelve marked columns,
省辖市、县（市、区）办理情况 over its eight), the two footnotes under the table; A4 landscape,
header rows repeated on every printed page, fitted to one page wide, the header frozen on screen.

The rows are the provincial (and central) referrals among the cases passed in, intersected with
``cases_for`` again so a caller's mistake cannot widen them. The petitioner is masked unless an
unmasked export is asked for with a reason, and then shown only where ``cases/disclosure.py`` lets
this membership reveal them in bulk. Rows are read a chunk at a time with their related rows
prefetched per chunk (a fixed number of queries per chunk) and written by xlsxwriter in
``constant_memory`` mode. Every export is audited with the case numbers it contained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import IO

import xlsxwriter
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.audit.services import EXPORT, audit_record
from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.disclosure import may_reveal_petitioner, reveal_reach
from xinfang.cases.errors import Refused
from xinfang.cases.models import Assignment, Case, CasePetitioner, Clock, Contact, Delivery, Demand
from xinfang.cases.selectors import cases_for
from xinfang.ledgers.exports import CHUNK as PROGRESS_EVERY
from xinfang.ledgers.exports import (
    SHEET_ROWS,
    Progress,
    sheet_full,
    unmasked_reason,
    waited_file,
)
from xinfang.ledgers.filters import filter_ledger
from xinfang.org.choices import Level
from xinfang.org.models import Membership, Unit
from xinfang.rules.deadlines import deadline_text
from xinfang.security.masking import mask_address, mask_name, mask_phone

from .periods import BadPeriod, Period, parse

TITLE = "省级交办信访事项办理情况统计表"
SHEET = "省级交办件统计表"
CATEGORIES = ("精准识别", "精准退出", "帮扶措施", "资金项目", "危房改造", "易地搬迁", "小额信贷",
              "民政救助", "医疗保障", "教育保障", "残疾人保障", "其他")
# A profile's own category names that mean one of the columns above (jianan's list of seed 001
# 附件1 names some differently); anything not found goes to 其他.
CATEGORY_ALIASES = {
    "防返贫监测": "精准识别", "残疾人补贴": "残疾人保障", "医疗报销": "医疗保障",
    "D级危房改造": "危房改造", "易地扶贫搬迁": "易地搬迁", "金融扶贫": "小额信贷",
    "项目资金公开公示": "资金项目", "产业带贫": "帮扶措施", "就业培训": "帮扶措施",
    "公益岗位": "帮扶措施", "其他类": "其他",
}
HANDLING = ("承办单位", "联系信访人时间", "反馈处理意见时间", "信访人反映问题是否属实",
            "信访人是否满意", "复查情况", "复核情况", "涉法涉诉涉纪件工作进度")
SINGLE_BEFORE = ("序号", "接待日期", "信访渠道", "信访人信息及反映事项内容摘要")
PLACE = ("省辖市", "县（市、区）")
# The header's top row: (text, first column, last column); a group's second-row texts follow.
HEADERS = [
    *[(t, i, i) for i, t in enumerate(SINGLE_BEFORE)],
    ("问题属地", 4, 5),
    ("是否脱贫（监测）户", 6, 6),
    ("问题类别", 7, 18),
    ("是否重点交办", 19, 19),
    ("办结时限", 20, 20),
    ("省辖市、县（市、区）办理情况", 21, 28),
]
SUB_HEADERS = {4: PLACE, 7: CATEGORIES, 21: HANDLING}
COLUMNS = 29
WIDTHS = (5, 11, 12, 42, 9, 11, 9, *([5] * 12), 7, 11, 20, 11, 11, 9, 8, 14, 14, 16)
FOOTNOTES = (
    "注：1. “信访人是否满意” 栏填写 “满意” 或 “不满意”，“信访人反映问题是否属实” 栏填写 "
    "“属实”、“部分属实”、“不属实”；",
    "2. 信访人申请复查复核的，需填写复查复核时间，及进展情况。",
)
TITLE_ROW, BLOCK_ROW, HEAD_TOP, HEAD_SUB = 0, 1, 2, 3
FIRST_DATA = 4
PROVINCIAL = (c.SourceLevel.PROVINCE, c.SourceLevel.CENTRAL)
MARK = "√"
CHUNK = 1000
MAX_CELL = 32767


def provincial(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The provincial and central referrals (省级及以上交办) among ``cases``."""
    return cases.filter(source_level__in=PROVINCIAL)


def weekly_cases(by: Membership, period: Period) -> QuerySet[Case]:
    """The provincial cases completed (销号) in the week — 办结一批报送一批."""
    start, end = period.bounds()
    return provincial(cases_for(by)).filter(closed_at__gte=start, closed_at__lt=end)


def l4_selection(by: Membership, params: Mapping) -> tuple[QuerySet[Case], str]:
    """The cases an L4 is asked of, and the period for its title: the week's completed
    provincial cases (``week=2026-W48``), or the ledger page's filters. A bad week is refused,
    naming the field."""
    if params.get("week"):
        try:
            week = parse("week", params["week"])
        except BadPeriod as e:
            raise Refused(str(e), field="week") from None
        return weekly_cases(by, week), week.label
    return filter_ledger(cases_for(by), params, by=by), ""


def l4_file(cases: QuerySet[Case], *, by: Membership, **options) -> IO[bytes]:
    """L4 for a person waiting on it: more provincial referrals than ``XINFANG_L4_WAIT_ROWS``
    are refused (the background export, ``jobs.kinds.ledger_l4``, writes any number)."""
    counted = provincial(cases_for(by).filter(pk__in=cases.values("pk")))
    return waited_file(write_ledger_l4, cases, by=by, counted=counted,
                       limit=settings.XINFANG_L4_WAIT_ROWS, what="的省级交办件", **options)


def category_column(name: str) -> str:
    name = (name or "").strip()
    if name in CATEGORIES:
        return name
    return CATEGORY_ALIASES.get(name, "其他")


# The case's columns the table writes (a province's 60,000 referrals are not read with all 55).
CASE_COLUMNS = ("number", "received_at", "channel", "source_office", "source_level", "matter",
                "exited_household", "monitored_household", "key_case", "rating",
                "transferred_to_discipline", "concerns_misconduct", "state", "jurisdiction")

# A petitioner as the table shows them (masked or not: ``_person``), and what decides it.
LINK_COLUMNS = ("case_id", "petitioner_id", "role", "confidential", "petitioner__name",
                "petitioner__phone", "petitioner__address", "petitioner__confidential")


@dataclass(frozen=True, slots=True)
class Handler:
    role: str
    unit: str


@dataclass(frozen=True, slots=True)
class DemandLine:
    seq: int
    text: str
    category: str
    finding: str


def _group(rows, key: str = "case_id") -> dict[int, list]:
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(getattr(row, key), []).append(row)
    return out


def _chunks(qs: QuerySet[Case], units: dict[int, Unit]):
    """The cases in table order, a chunk at a time, each chunk with its petitioners, assignments,
    demands, contacts, decision-letter deliveries, reviews and deadlines read in one query each
    (the assignments and demands as the few values the table shows). ``units`` keeps the units
    on the jurisdictions' paths (for 省辖市 and 县): those a chunk adds are read with it, once,
    not for each new jurisdiction a row brings (a province's file names some hundred)."""
    it = qs.select_related("jurisdiction").only(*CASE_COLUMNS).order_by(
        "received_at", "pk").iterator(chunk_size=CHUNK)
    while chunk := list(islice(it, CHUNK)):
        ids = tuple(case.pk for case in chunk)
        among = probes.among("case_id", ids)  # one array on PostgreSQL, not 1,000 parameters
        missing = {pk for case in chunk for pk in case.jurisdiction.path_ids} - units.keys()
        if missing:
            units.update(Unit.objects.order_by().only("name", "level").in_bulk(missing))
        mains = _group(CasePetitioner.objects.filter(among, role__in=c.PETITIONING_ROLES)
                       .select_related("petitioner").only(*LINK_COLUMNS).order_by("pk"))
        leads: dict[int, list] = {}
        for cid, role, unit in (Assignment.objects.filter(among)
                                .exclude(status=c.AssignmentStatus.TRANSFERRED)
                                .order_by("assigned_at", "pk")
                                .values_list("case_id", "role", "unit__name")):
            leads.setdefault(cid, []).append(Handler(role, unit))
        demands: dict[int, list] = {}
        for cid, *line in (Demand.objects.filter(among).order_by("seq").values_list(
                "case_id", "seq", "text", "category", "finding")):
            demands.setdefault(cid, []).append(DemandLine(*line))
        first_contact = {}
        for cid, at in Contact.objects.filter(among).order_by("at").values_list(
                "case_id", "at"):
            first_contact.setdefault(cid, at)
        replied = {}
        for cid, at in Delivery.objects.filter(
                among, document__kind=c.DocumentKind.DECISION_LETTER).order_by(
                "delivered_at").values_list("case_id", "delivered_at"):
            replied.setdefault(cid, at)
        reviews = _group(Case.objects.filter(probes.among("review_of_id", ids)).only(
            "pk", "review_of_id", "kind", "state", "received_at", "number"), key="review_of_id")
        # Each case's last deadline, and whether it was counted on a year whose holidays are
        # not loaded yet (ordered by deadline: the last one read wins).
        due = {cid: (at, provisional) for cid, at, provisional in Clock.objects.filter(
            among, kind="deadline").order_by("case_id", "due_at", "pk").values_list(
            "case_id", "due_at", "provisional")}
        for case in chunk:
            case.main_links = mains.get(case.pk, [])
            case.handling = leads.get(case.pk, [])
            case.demand_list = demands.get(case.pk, [])
            case.first_contact = first_contact.get(case.pk)
            case.replied_at = replied.get(case.pk)
            case.review_list = reviews.get(case.pk, [])
            case.due_at = due.get(case.pk)
        yield from chunk


def _local(dt, zone):
    """A stored time as the office's wall clock in ``zone`` (the sheet has no time zones)."""
    return dt.astimezone(zone).replace(tzinfo=None) if dt else None


def _deadline(due: tuple[datetime, bool] | None, zone) -> date | datetime | str | None:
    """办结时限 as an office writes it: an end-of-day deadline (midnight after its last day) is
    that last day, a date, not "D+1 00:00"; one counted on a year whose holidays are not
    loaded yet says so, as text ("2027-01-01 24时（暂定）"), where a date cell could not."""
    if due is None:
        return None
    at, provisional = due
    if provisional:
        return f"{deadline_text(at)}（暂定）"
    local = _local(at, zone)
    if local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local


def _place(case: Case, units: dict[int, Unit]) -> tuple[str, str]:
    """省辖市 and 县（市、区） of the case's jurisdiction, read from its path."""
    city = county = ""
    for pk in case.jurisdiction.path_ids:
        unit = units.get(pk)
        if unit is None:
            continue
        if unit.level == Level.CITY:
            city = unit.name
        elif unit.level == Level.COUNTY:
            county = unit.name
    return city, county


def _household(case: Case) -> str:
    if case.exited_household and case.monitored_household:
        return "脱贫户、监测对象"
    if case.exited_household:
        return "脱贫户"
    if case.monitored_household:
        return "监测对象"
    return "否"


def _finding(case: Case) -> str:
    found = {d.finding for d in case.demand_list if d.finding}
    if not found:
        return ""
    if found == {c.Finding.TRUE}:
        return "属实"
    if found == {c.Finding.FALSE}:
        return "不属实"
    return "部分属实"


def _satisfied(case: Case) -> str:
    if case.rating in (c.Rating.SATISFIED, c.Rating.BASICALLY):
        return "满意"
    if case.rating == c.Rating.UNSATISFIED:
        return "不满意"
    return ""


def _review(case: Case, kind: str, states: dict, zone) -> str:
    rows = [r for r in case.review_list if r.kind == kind]
    return "；".join(
        f"{_local(r.received_at, zone):%Y-%m-%d}申请，{r.number}，{states.get(r.state, r.state)}"
        for r in rows)


def _legal(case: Case, states: dict) -> str:
    if case.transferred_to_discipline or case.concerns_misconduct:
        moved = "已移送纪检监察，" if case.transferred_to_discipline else "涉纪，"
        return moved + states.get(case.state, case.state)
    return ""


def _person(case: Case, by: Membership, unmasked: bool) -> tuple[str, bool]:
    reach = reveal_reach(case, by, bulk=True) if unmasked else None
    parts, any_clear = [], False
    for link in case.main_links:
        p = link.petitioner
        clear = unmasked and may_reveal_petitioner(case, p, by, link=link, bulk=True, reach=reach)
        any_clear |= clear
        bits = [p.name if clear else mask_name(p.name)]
        if p.phone:
            bits.append(p.phone if clear else mask_phone(p.phone))
        if p.address:
            bits.append(p.address if clear else mask_address(p.address))
        parts.append("，".join(bits))
    return "；".join(parts), any_clear


def _summary(case: Case, person: str) -> str:
    demands = "；".join(f"{d.seq}. {d.text}" for d in case.demand_list)
    text = f"{person}。{case.matter}" if person else case.matter
    return f"{text}\n主要诉求：{demands}" if demands else text


def _channel(case: Case, channels: dict, levels: dict) -> str:
    label = channels.get(case.channel, case.channel)
    source = case.source_office or levels.get(case.source_level, "")
    return f"{label}（{source}交办）" if source else label


def _header(sheet, fmt) -> None:
    """The two header rows. In constant_memory mode a row is final once a later row is written,
    so ``merge_range`` cannot merge two rows (it writes the lower row's blanks, and then the upper
    row is closed for the next range): the top row is written whole with its one-row merges, then
    the second row, and the merges down both rows are recorded last — a merge is only a note in
    the sheet's ``<mergeCells>``, which xlsxwriter writes from ``Worksheet.merge`` at close."""
    for text, first, last in HEADERS:
        if first == last:
            sheet.write_string(HEAD_TOP, first, text, fmt)
        else:
            sheet.merge_range(HEAD_TOP, first, HEAD_TOP, last, text, fmt)
    for _text, first, last in HEADERS:
        if first == last:
            sheet.write_blank(HEAD_SUB, first, None, fmt)
    for first, texts in SUB_HEADERS.items():
        for i, text in enumerate(texts):
            sheet.write_string(HEAD_SUB, first + i, text, fmt)
    for _text, first, last in HEADERS:
        if first == last:
            sheet.merge.append([HEAD_TOP, first, HEAD_SUB, first])


@dataclass
class Exported:
    rows: int
    revealed_rows: int
    case_ids: list[int] = field(default_factory=list)  # for a background export's download


def write_ledger_l4(out: IO[bytes] | str, cases: Iterable[Case] | QuerySet[Case], *,
                    by: Membership, ip: str = "", filters: dict | None = None, via: str = "api",
                    unmasked: bool = False, reason: str = "", period_label: str = "",
                    only_provincial: bool = True, progress: Progress | None = None) -> Exported:
    """Write L4 over the provincial referrals ``by`` may see among ``cases`` to ``out`` (a path
    or a seekable binary file); masked unless ``unmasked`` with a ``reason``; audited. A
    background job passes ``progress``, told every ``PROGRESS_EVERY`` rows."""
    reason = unmasked_reason(unmasked=unmasked, reason=reason)
    ids = cases.values("pk") if isinstance(cases, QuerySet) else [case.pk for case in cases]
    qs = cases_for(by).filter(pk__in=ids)
    if only_provincial:
        qs = provincial(qs)
    total = qs.count() if progress is not None else None

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False,
                                     "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    title_f = book.add_format({"bold": True, "font_size": 16, "align": "center",
                               "valign": "vcenter"})
    block_f = book.add_format({"valign": "vcenter"})
    head_f = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                              "text_wrap": True, "font_size": 10})
    text_f = book.add_format({"valign": "top", "text_wrap": True, "border": 1, "font_size": 10})
    mark_f = book.add_format({"valign": "top", "align": "center", "border": 1, "font_size": 10})
    date_f = book.add_format({"valign": "top", "border": 1, "num_format": "yyyy-mm-dd",
                              "font_size": 10})
    time_f = book.add_format({"valign": "top", "border": 1, "num_format": "yyyy-mm-dd hh:mm",
                              "font_size": 10})
    note_f = book.add_format({"text_wrap": True, "valign": "top", "font_size": 10})

    sheet = book.add_worksheet(SHEET)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    home = by.unit.jurisdiction() or by.unit
    # constant_memory writes a row once: rows go out strictly top to bottom.
    sheet.set_row(TITLE_ROW, 30)
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, COLUMNS - 1,
                      TITLE + (f"（{period_label}）" if period_label else ""), title_f)
    sheet.merge_range(BLOCK_ROW, 0, BLOCK_ROW, 13, f"填报单位：{home.name}", block_f)
    sheet.merge_range(BLOCK_ROW, 14, BLOCK_ROW, COLUMNS - 1,
                      f"联系电话：{home.phone or by.unit.phone}", block_f)
    sheet.set_row(HEAD_TOP, 24)
    sheet.set_row(HEAD_SUB, 48)
    _header(sheet, head_f)
    sheet.freeze_panes(FIRST_DATA, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(HEAD_TOP, HEAD_SUB)
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as it takes
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.center_horizontally()

    states = {v: str(lbl) for v, lbl in c.State.choices}
    channels = {v: str(lbl) for v, lbl in c.Channel.choices}
    levels = {v: str(lbl) for v, lbl in c.SourceLevel.choices}
    places: dict[int, Unit] = {}
    zone = timezone.get_current_timezone()
    revealed, numbers, case_ids, r = 0, [], [], FIRST_DATA - 1
    for r, case in enumerate(_chunks(qs, places), start=FIRST_DATA):
        if r + len(FOOTNOTES) >= SHEET_ROWS:  # xlsxwriter would drop the rest without a word
            book.close()
            raise sheet_full(r - FIRST_DATA, "周次、时间")
        person, clear = _person(case, by, unmasked)
        revealed += clear
        numbers.append(case.number)
        case_ids.append(case.pk)
        city, county = _place(case, places)
        marked = {category_column(d.category) for d in case.demand_list}
        lead = [a for a in case.handling if a.role == c.AssignmentRole.LEAD]
        units = "、".join(dict.fromkeys(a.unit for a in (lead or case.handling)))
        values = [
            r - FIRST_DATA + 1, _local(case.received_at, zone).date(),
            _channel(case, channels, levels),
            _summary(case, person), city, county, _household(case),
            *[MARK if name in marked else "" for name in CATEGORIES],
            "是" if case.key_case else "否", _deadline(case.due_at, zone), units,
            _local(case.first_contact, zone), _local(case.replied_at, zone), _finding(case),
            _satisfied(case), _review(case, c.Kind.REVIEW, states, zone),
            _review(case, c.Kind.REREVIEW, states, zone),
            _legal(case, states),
        ]
        if progress is not None and len(numbers) % PROGRESS_EVERY == 0:
            progress(len(numbers), total or len(numbers))
        for col, value in enumerate(values):
            if value is None or value == "":
                sheet.write_blank(r, col, None, text_f)
            elif isinstance(value, int):
                sheet.write_number(r, col, value, mark_f)
            elif isinstance(value, str):
                fmt = mark_f if 7 <= col <= 19 else text_f
                sheet.write_string(r, col, value[:MAX_CELL], fmt)
            elif hasattr(value, "hour"):
                sheet.write_datetime(r, col, value, time_f)
            else:
                sheet.write_datetime(r, col, value, date_f)
    last = max(r, FIRST_DATA - 1)
    for i, note in enumerate(FOOTNOTES, start=1):
        sheet.merge_range(last + i, 0, last + i, COLUMNS - 1, note, note_f)
    book.close()

    audit_record(
        action=EXPORT, actor=by.user, object_type="ledger", object_id="L4", ip=ip,
        detail={"ledger": "L4", "via": via, "membership": by.pk, "role": by.role,
                "unit": by.unit.name, "rows": len(numbers), "revealed_rows": revealed,
                "unmasked": unmasked, "reason": reason, "period": period_label,
                "filters": filters or {}, "cases": numbers},
    )
    return Exported(rows=len(numbers), revealed_rows=revealed, case_ids=case_ids)
