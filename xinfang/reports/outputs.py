"""The four periodic outputs, each written to a binary file:

- ``monthly`` — 越级访、集体访、重复访每月一通报 (seed 000 §十一(四)), DOCX: the month's counts
  against the month before, by township, and the list of those petitions (petitioners masked);
- ``weekly`` — the provincial batch of seed 001 (ZIP): L4 of the provincial cases completed
  (销号) that week, one folder per case built by the case-file archive (一案一档), and a note
  of the Friday 10:00 deadline;
- ``quarterly`` — 季度统计分析 (seed 002 §四(四)), DOCX with charts: by category, by township and
  village, the trend, common features and differences, effectiveness of the measures, targets;
- ``scorecard`` — 单位考评表 (seed 004 §二(七)), XLSX: the profile's targets per handling unit for
  a quarter or a year, with each rate's numerator and denominator.

Each reads through the permission door (``selectors``); ``services.report_build`` audits."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

import xlsxwriter
from django.utils import timezone
from docx import Document as Docx
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

from xinfang.cases import choices as c
from xinfang.cases import probes
from xinfang.cases.models import CasePetitioner
from xinfang.cases.rates import (
    COUNT_LABELS,
    NO_UNIT,
    results_of,
)
from xinfang.documents.archive import archive_batches, archive_build
from xinfang.documents.wordxml import add_table
from xinfang.org.models import Membership, Unit, names_then, names_told_apart
from xinfang.oversight.exports import write_oversight_sheet
from xinfang.rules.consumers import consumes
from xinfang.rules.profile import Profile
from xinfang.rules.store import current_version, profile_of
from xinfang.security.masking import mask_name

from . import charts
from . import selectors as s
from .l4 import weekly_cases, write_ledger_l4
from .periods import Period
from .practices_sheet import write_practices_sheet

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
WEEKLY_DUE = (4, 10)  # Friday (Monday = 0), 10:00 — seed 001 二(五)


@dataclass
class Written:
    rows: int  # the cases the output counted or listed
    cases: list[str] = field(default_factory=list)  # the numbers it lists by name


def home_of(by: Membership) -> Unit:
    return by.unit.jurisdiction() or by.unit


def profile_for(by: Membership) -> Profile | None:
    home = home_of(by)
    return profile_of(current_version(home.profile_code)) if home.profile_code else None


@consumes("periodic_reports.name", "periodic_reports.period", "periodic_reports.contents",
          "periodic_reports.to", by="xinfang.reports.outputs.periodic_rule")
def periodic_rule(profile: Profile | None, names: tuple[str, ...], period_kind: str):
    """The profile's own periodic report of one of these names and of that period, whose label,
    seed, contents and recipients head the report (``None``: the profile names none)."""
    if profile is None:
        return None
    return next((r for r in profile.periodic_reports
                 if r.name in names and r.period == period_kind), None)


def _pct(n: int, d: int) -> str:
    return "—" if not d else f"{100 * n / d:.1f}%"


def _change(now: int, before: int) -> str:
    if before == 0:
        return "上期为0" if now else "与上期持平（均为0）"
    delta = (now - before) / before * 100
    return "与上期持平" if now == before else f"{'增加' if delta > 0 else '减少'}{abs(delta):.1f}%"


# ---------------------------------------------------------------- Word helpers


def _doc(title: str, subtitle: str, *, landscape: bool = False) -> Docx:
    doc = Docx()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    if landscape:
        sec = doc.sections[0]
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    doc.add_heading(title, level=0)
    doc.add_paragraph(subtitle)
    return doc


def _picture(doc: Docx, png: bytes, caption: str) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(16))
    doc.add_paragraph().add_run(caption).italic = True
    note = charts.cjk_font().note
    if note:
        doc.add_paragraph(note)


def _save(doc: Docx, out: IO[bytes]) -> None:
    doc.save(out)


def _masked_names(case_ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    for link in (CasePetitioner.objects.filter(probes.among("case_id", tuple(case_ids)),
                                               role__in=c.PETITIONING_ROLES)
                 .select_related("petitioner").defer("petitioner__id_number").order_by("pk")):
        names.setdefault(link.case_id, []).append(mask_name(link.petitioner.name))
    return {k: "、".join(v) for k, v in names.items()}


# ---------------------------------------------------------------- monthly bulletin

LIST_LIMIT = 500  # the bulletin names at most this many petitions; the ledger holds the rest


def write_monthly(out: IO[bytes], *, by: Membership, period: Period) -> Written:
    home = home_of(by)
    rule = periodic_rule(profile_for(by), ("monthly_bulletin",), "month")
    then = names_then(period.end)  # the month's names: a unit renamed since keeps its own
    cases = s.period_cases(by, period)
    now, before = s.flag_counts(cases), s.flag_counts(s.period_cases(by, period.previous()))
    doc = _doc(f"{then.get(home.pk, home.name)}越级访、集体访、重复访通报",
               f"（{period.label}，每月一通报；依据：{rule.seed if rule else '000 §十一(四)'}）")
    if rule and rule.to:
        doc.add_paragraph("报送：" + "、".join(_role_labels(rule.to)))
    doc.add_heading("一、总体情况", level=1)
    doc.add_paragraph(
        f"本月共收到信访件{now['total']}件，其中重复访{now['repeat']}件"
        f"（涉及{s.repeat_matters(cases)}个信访事项）、越级访"
        f"{now['level_skipping']}件、集体访{now['collective']}件（一件可同时属于多类），"
        f"三类合计{now['any']}件，占{_pct(now['any'], now['total'])}；"
        f"三类合计{_change(now['any'], before['any'])}（上月{before['any']}件）。")
    add_table(doc, ["类别", "本月（件）", "上月（件）", "增减"], [
        [label, now[k], before[k], _change(now[k], before[k])]
        for k, (label, _q) in s.FLAGS.items()] + [["合计（去重）", now["any"], before["any"],
                                                    _change(now["any"], before["any"])]])
    doc.add_heading("二、分乡镇（街道）情况", level=1)
    extra = {k: q for k, (_l, q) in s.FLAGS.items()}
    areas = s.by_area(cases.filter(s.ANY_FLAG), "township", extra=extra, then=then)
    if areas:
        add_table(doc, ["乡镇（街道）", "重复访", "越级访", "集体访", "合计"],
                  [[name, n["repeat"], n["level_skipping"], n["collective"], n["n"]]
                   for name, n in areas])
    else:
        doc.add_paragraph("本月无重复访、越级访、集体访。")
    doc.add_heading("三、信访事项清单", level=1)
    listed = list(s.flagged_cases(cases)[:LIST_LIMIT])
    names = _masked_names([x.pk for x in listed])
    if listed:
        add_table(doc, ["序号", "编号", "信访人", "属地", "类型", "反映问题", "状态", "包案领导"], [
            [i, x.number, names.get(x.pk, ""),
             "".join(then.get(u.pk, u.name) for u in (x.township, x.village) if u)
             or s.NO_PLACE,
             "、".join(_flag_label(x, k, label) for k, (label, _q) in s.FLAGS.items()
                      if _flag(x, k)),
             x.matter[:60], x.get_state_display(),
             x.leader_owner.get_full_name() if x.leader_owner else ""]
            for i, x in enumerate(listed, start=1)])
        if now["any"] > len(listed):
            doc.add_paragraph(f"（另有{now['any'] - len(listed)}件见台账。）")
    doc.add_paragraph("信访人姓名已脱敏。")
    _save(doc, out)
    return Written(rows=now["total"], cases=[x.number for x in listed])


def _flag_label(case, key: str, label: str) -> str:
    """重复访 with the visit on its matter (第3次), the others as they are."""
    if key == "repeat" and case.repeat_count:
        return f"{label}（第{case.repeat_count + 1}次）"
    return label


def _flag(case, key: str) -> bool:
    if key == "repeat":
        return bool(case.repeat_count or case.repeat_of_id)
    return bool(getattr(case, key))


def _role_labels(roles) -> list[str]:
    from xinfang.org.choices import Role

    labels = dict(Role.choices)
    return [str(labels.get(r, r)) for r in roles]


# ---------------------------------------------------------------- weekly provincial batch


def weekly_due(period: Period) -> datetime:
    """Friday 10:00 of the week, local time."""
    start = period.bounds()[0]
    day, hour = WEEKLY_DUE
    return start + timedelta(days=day, hours=hour)


def write_weekly(out: IO[bytes], *, by: Membership, period: Period, ip: str = "",
                 via: str = "cli") -> Written:
    cases = list(weekly_cases(by, period).select_related("jurisdiction")
                 .order_by("closed_at", "pk"))
    l4 = io.BytesIO()
    write_ledger_l4(l4, weekly_cases(by, period), by=by, ip=ip, via=via,
                    period_label=period.label, filters={"week": period.code})
    due = weekly_due(period)
    made = timezone.now()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"省级交办信访事项办理情况统计表-{period.code}.xlsx", l4.getvalue(),
                   zipfile.ZIP_STORED)  # an Excel file is a ZIP already
        for case in archive_batches(cases):
            folder = f"一案一档/{case.number}/"
            with zipfile.ZipFile(io.BytesIO(archive_build(case=case, by=by))) as one:
                for info in one.infolist():
                    z.writestr(folder + info.filename, one.read(info), info.compress_type)
        z.writestr("说明.txt", "\n".join([
            f"{home_of(by).name} 省级交办信访事项周报（{period.label}）",
            f"本周已完成（销号）的省级交办信访事项 {len(cases)} 件，每件一个文件夹（一案一档）。",
            f"报送时限：{timezone.localtime(due):%Y-%m-%d %H:%M}"
            "（周五上午10:00前，seed 001 二(五)）",
            f"本批生成时间：{timezone.localtime(made):%Y-%m-%d %H:%M}（{lateness(due, made)}）",
            "信访人信息已脱敏；纸质档案留档备查。",
        ]))
    return Written(rows=len(cases), cases=[x.number for x in cases])


def lateness(due: datetime, at: datetime) -> str:
    seconds = (at - due).total_seconds()
    hours, minutes = divmod(int(abs(seconds)) // 60, 60)
    span = f"{hours}小时{minutes}分" if hours else f"{minutes}分"
    return f"晚于截止{span}" if seconds > 0 else f"早于截止{span}"


# ---------------------------------------------------------------- quarterly analysis


def write_quarterly(out: IO[bytes], *, by: Membership, period: Period) -> Written:
    home = home_of(by)
    profile = profile_for(by)
    rule = periodic_rule(profile, ("quarterly_analysis",), "quarter")
    cases = s.period_cases(by, period)
    figures = s.period_figures(by, period)
    n, n_prev = figures.total, s.period_figures(by, period.previous()).total
    flags = s.flag_counts(cases)
    then = names_then(period.end)  # the quarter's names: a unit renamed since keeps its own
    doc = _doc(f"{then.get(home.pk, home.name)}信访问题{period.label}统计分析报告",
               f"依据：{rule.seed if rule else '002 §四(四)'}"
               + (f"；内容：{'、'.join(rule.contents)}" if rule and rule.contents else ""))

    doc.add_heading("一、总体情况", level=1)
    doc.add_paragraph(
        f"本季度收到信访件{n['received']}件，{_change(n['received'], n_prev['received'])}"
        f"（上季度{n_prev['received']}件）；受理{n['accepted']}件，办结{n['closed']}件，"
        f"参与满意度评价{n['rated']}件，其中满意（含基本满意）{n['satisfied']}件"
        f"（{_pct(n['satisfied'], n['rated'])}）。重复访{flags['repeat']}件、越级访"
        f"{flags['level_skipping']}件、集体访{flags['collective']}件。")

    doc.add_heading("二、按问题类别", level=1)
    cats = s.category_counts(figures)
    if cats:
        add_table(doc, ["问题类别", "件数", "占比"],
                  [[k, v, _pct(v, n["received"])] for k, v in cats])
        _picture(doc, charts.bar_chart("各问题类别信访件数", cats), "图1 各问题类别信访件数")
    else:
        doc.add_paragraph("本季度无信访件。")

    doc.add_heading("三、按发生区域", level=1)
    towns = s.township_counts(figures, then=then)
    villages = [(k, v["n"]) for k, v in s.by_area(cases, "village", then=then)][:15]
    if towns:
        doc.add_heading("（一）乡镇（街道）", level=2)
        add_table(doc, ["乡镇（街道）", "件数", "占比"],
                  [[k, v, _pct(v, n["received"])] for k, v in towns])
        _picture(doc, charts.bar_chart("各乡镇（街道）信访件数", towns),
                 "图2 各乡镇（街道）信访件数")
        doc.add_heading("（二）村（社区）（件数最多的15个）", level=2)
        add_table(doc, ["村（社区）", "件数"], [[k, v] for k, v in villages])

    doc.add_heading("四、变化趋势", level=1)
    trend = s.monthly_trend(by, period)
    add_table(doc, ["月份", "件数"], [[k, v] for k, v in trend])
    _picture(doc, charts.column_chart("近12个月信访件数", trend), "图3 近12个月信访件数")

    doc.add_heading("五、共性和差异", level=1)
    for line in _features(cases, cats, towns, flags, n["received"], then):
        doc.add_paragraph(line, style="List Bullet")

    doc.add_heading("六、问题解决措施的有效性", level=1)
    done = s.measures(cases)
    if done:
        add_table(doc, ["措施（三到位一处理）", "诉求数", "已办结件", "满意率", "再次信访件"], [
            [m.label, m.demands, m.closed_cases, _pct(m.satisfied, m.rated), m.petitioned_again]
            for m in done])
        worst = max(done, key=lambda m: (m.petitioned_again, -m.satisfied))
        if worst.petitioned_again:
            doc.add_paragraph(f"“{worst.label}”的件中再次信访{worst.petitioned_again}件，"
                              "是下季度需要补强的环节。")
    else:
        doc.add_paragraph("本季度尚无核查认定并采取措施的诉求。")

    doc.add_heading("七、考核指标", level=1)
    results = results_of(n, profile) if profile else []
    if results:
        add_table(doc, ["指标", "分子", "分母", "完成率", "目标", "是否达标"], [
            [r.label, f"{r.numerator_label} {r.numerator}", f"{r.denominator_label} "
             f"{r.denominator}", _pct(r.numerator, r.denominator), f"≥{r.threshold:.0%}",
             _met(r)] for r in results])
    else:
        doc.add_paragraph("本机关的规则配置未设定考核指标。")
    _save(doc, out)
    return Written(rows=n["received"])


def _met(r) -> str:
    if r.by_construction:
        return "按定义恒为100%，不作考核"
    return {None: "无可计算件", True: "达标", False: "未达标"}[r.met]


def _features(cases, cats, towns, flags, total, then) -> list[str]:
    """Common features and differences, read from the counts (no invented prose)."""
    lines = []
    if not total:
        return ["本季度无信访件。"]
    if cats:
        top = cats[:3]
        lines.append("反映最集中的问题类别：" + "、".join(
            f"{k}{v}件（{_pct(v, total)}）" for k, v in top) + "。")
    spread = s.category_by_township(cases, [k for k, _v in cats[:3]], then=then)
    for cat, _v in cats[:3]:
        places = spread.get(cat, [])
        if places:
            head, count = places[0]
            gathered = count * 2 > sum(p[1] for p in places)
            lines.append(f"“{cat}”类涉及{len(places)}个乡镇（街道），最多的是{head}（{count}件）"
                         + ("，较为集中。" if gathered else "，分布较散。"))
    if towns:
        lines.append(f"件数最多的乡镇（街道）：{towns[0][0]}（{towns[0][1]}件）；"
                     f"最少的：{towns[-1][0]}（{towns[-1][1]}件）。")
    lines.append(f"重复访{flags['repeat']}件、越级访{flags['level_skipping']}件、集体访"
                 f"{flags['collective']}件，三类合计占{_pct(flags['any'], total)}。")
    return lines


# ---------------------------------------------------------------- unit scorecard


def write_scorecard(out: IO[bytes], *, by: Membership, period: Period) -> Written:
    home = home_of(by)
    profile = profile_for(by)
    cases = s.period_cases(by, period)
    figures = s.period_figures(by, period)
    total, grouped = figures.total, s.unit_counts(figures)
    then = names_then(period.end)  # the period's names: a unit renamed since keeps its own
    names = names_told_apart(grouped, then=then)
    targets = list(profile.targets) if profile else []
    rule = periodic_rule(profile, ("unit_scoring_quarterly", "unit_scoring_yearly"), period.kind)

    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    title_f = book.add_format({"bold": True, "font_size": 16, "align": "center"})
    head_f = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                              "text_wrap": True, "bg_color": "#D9E1F2"})
    cell_f = book.add_format({"border": 1})
    pct_f = book.add_format({"border": 1, "num_format": "0.0%"})
    bad_f = book.add_format({"border": 1, "font_color": "#C00000"})
    ws = book.add_worksheet("单位考评")
    names_cols = 1 + 4 * len(targets) if targets else 1 + len(COUNT_LABELS)
    ws.merge_range(0, 0, 0, max(names_cols - 1, 1),
                   f"{then.get(home.pk, home.name)}信访工作单位考评表（{period.label}）",
                   title_f)
    ws.write_string(1, 0, f"依据：{rule.label}（{rule.seed}）" if rule else
                    "依据：规则配置中的考核指标（seed 004 §二(七)）")
    ws.freeze_panes(4, 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.repeat_rows(2, 3)
    ws.fit_to_pages(1, 0)
    ws.set_column(0, 0, 22)
    ws.merge_range(2, 0, 3, 0, "承办单位", head_f)
    # by name, then by id: a city's counties have townships of the same name
    units = sorted(grouped.items(),
                   key=lambda kv: (kv[0] is None, names.get(kv[0], ""), kv[0] or 0))
    rows = [(names.get(k, NO_UNIT) if k else NO_UNIT, v) for k, v in units] + [("合计", total)]
    if targets:
        for i, t in enumerate(targets):
            col = 1 + 4 * i
            ws.merge_range(2, col, 2, col + 3, f"{t.label}（目标≥{t.threshold:.0%}）", head_f)
            for j, text in enumerate((COUNT_LABELS[t.numerator], COUNT_LABELS[t.denominator],
                                      "完成率", "是否达标")):
                ws.write_string(3, col + j, text, head_f)
            ws.set_column(col, col + 3, 11)
        for r, (name, n) in enumerate(rows, start=4):
            ws.write_string(r, 0, name, cell_f)
            for i, res in enumerate(results_of(n, profile)):
                col = 1 + 4 * i
                ws.write_number(r, col, res.numerator, cell_f)
                ws.write_number(r, col + 1, res.denominator, cell_f)
                if res.rate is None:
                    ws.write_string(r, col + 2, "—", cell_f)
                else:
                    ws.write_number(r, col + 2, res.rate, pct_f)
                verdict = _met(res)
                ws.write_string(r, col + 3, verdict, bad_f if res.met is False else cell_f)
    else:
        for j, key in enumerate(COUNT_LABELS, start=1):
            ws.merge_range(2, j, 3, j, COUNT_LABELS[key], head_f)
            ws.set_column(j, j, 11)
        for r, (name, n) in enumerate(rows, start=4):
            ws.write_string(r, 0, name, cell_f)
            for j, key in enumerate(COUNT_LABELS, start=1):
                ws.write_number(r, j, n[key], cell_f)
        ws.write_string(len(rows) + 5, 0, "本机关的规则配置未设定考核指标，仅列各项件数。")
    notes = book.add_worksheet("指标说明")
    notes.set_column(0, 0, 26)
    notes.set_column(1, 4, 30)
    for j, text in enumerate(("指标", "分子", "分母", "目标", "依据")):
        notes.write_string(0, j, text, head_f)
    for i, t in enumerate(targets, start=1):
        notes.write_row(i, 0, [t.label, COUNT_LABELS[t.numerator], COUNT_LABELS[t.denominator],
                               f"≥{t.threshold:.0%}", t.seed])
    at = len(targets) + 2
    notes.write_string(at, 0, "统计口径：本期收到的信访件，按其主办单位（未交办的列为“未交办”）。")
    if rule:
        notes.write_string(at + 1, 0, f"考评内容：{'、'.join(rule.contents) or rule.label}")
    # issue 17: supervision orders, reviews and proxies of the period (xinfang.oversight)
    write_oversight_sheet(book, by=by, cases=cases, start=period.bounds()[0],
                          end=period.bounds()[1], head_f=head_f, cell_f=cell_f, pct_f=pct_f)
    # issue 17: return-visit satisfaction, meetings held, practices missed (xinfang.practices)
    write_practices_sheet(book, home=home, period=period, then=then, head_f=head_f,
                          cell_f=cell_f, pct_f=pct_f)
    book.close()
    return Written(rows=total["received"])


WRITERS = {"monthly": write_monthly, "weekly": write_weekly, "quarterly": write_quarterly,
           "scorecard": write_scorecard}
PERIOD_OF = {"monthly": ("month",), "weekly": ("week",), "quarterly": ("quarter",),
             "scorecard": ("quarter", "year")}
LABELS = {"monthly": "越级访、集体访、重复访月度通报", "weekly": "省级交办信访事项周报",
          "quarterly": "季度统计分析报告", "scorecard": "单位考评表"}
SUFFIX = {"monthly": ("docx", DOCX_TYPE), "weekly": ("zip", ZIP_TYPE),
          "quarterly": ("docx", DOCX_TYPE), "scorecard": ("xlsx", XLSX_TYPE)}
