"""The ranking bulletin (考核排名通报): the units ranked by score with every point's cases and
points, the point rules with their seeds, and the goal metrics against last year — as a Word
document for circulation or a workbook for the office's own sums. No person is named: the
bulletin lists counts and case numbers only."""

from __future__ import annotations

from typing import IO

import xlsxwriter
from docx import Document as Docx
from docx.enum.section import WD_ORIENT
from docx.shared import Pt

from xinfang.documents.wordxml import add_table
from xinfang.rules.profile.schema import Profile

from .goals import AIM_LABELS, MEASURE_LABELS, GoalResult
from .points import Scores

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_SCORING = "本机关的规则配置未设定考核评分项目（scoring），以下仅列工作目标。"


def fmt_points(v: float) -> str:
    return f"{v:+g}" if v else "0"


def fmt_value(g: GoalResult, v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.1%}" if g.is_rate else f"{v:g}"


def verdict(met: bool | None) -> str:
    return "—" if met is None else ("达到" if met else "未达到")


def _header(scores: Scores) -> list[str]:
    return (["名次", "承办单位", "收到件数"]
            + [f"{p.label}（{fmt_points(p.points)}/件）" for p in scores.points]
            + ["扣分", "加分", "得分"])


def _rows(scores: Scores) -> list[list]:
    rows = []
    for u in scores.units:
        cells = [f"{r.cases}件 {fmt_points(r.applied)}" + ("（封顶）" if r.capped else "")
                 if r.available else "未启用" for r in u.points]
        rows.append([u.rank, u.unit, u.cases, *cells, fmt_points(u.deductions),
                     fmt_points(u.additions), f"{u.score:g}"])
    return rows


def _title(home: str, scores: Scores) -> str:
    return f"{home}信访工作考核排名通报（{scores.period.label}）"


def _basis(profile: Profile | None, scores: Scores) -> str:
    if scores.scoring is None:
        return NO_SCORING
    return (f"依据：{profile.name if profile else ''}（{scores.scoring.seed}）。基础分"
            f"{scores.scoring.base:g}分，按本期收到的信访件计入其主办单位；截至"
            f"{scores.as_of:%Y年%m月%d日 %H:%M}。")


def write_docx(out: IO[bytes], *, home: str, profile: Profile | None, scores: Scores,
               goals: list[GoalResult]) -> None:
    doc = Docx()
    doc.styles["Normal"].font.size = Pt(10.5)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = sec.page_height, sec.page_width
    doc.add_heading(_title(home, scores), level=0)
    doc.add_paragraph(_basis(profile, scores))
    if scores.scoring is not None:
        doc.add_heading("一、单位得分排名", level=1)
        if scores.units:
            add_table(doc, _header(scores), _rows(scores))
        else:
            doc.add_paragraph("本期没有已交办的信访件。")
        if scores.unassigned:
            doc.add_paragraph(f"另有{scores.unassigned.cases}件尚未交办，不计入任何单位。")
        doc.add_heading("二、考核项目", level=1)
        add_table(doc, ["项目", "每件分值", "封顶", "依据"],
                  [[p.label, fmt_points(p.points), f"{p.cap:g}" if p.cap else "—", p.seed]
                   for p in scores.points])
        if any(not r.available for u in scores.units for r in u.points):
            doc.add_paragraph("“未启用”：本系统尚未启用办结件评查，该项按0计。")
    if goals:
        doc.add_heading("三、工作目标（与去年同期比）", level=1)
        add_table(doc, ["目标", "指标", "要求", "本期", "去年同期", "变化", "是否达到", "依据"],
                  [[g.goal.label, MEASURE_LABELS[g.goal.measure], AIM_LABELS[g.goal.aim],
                    fmt_value(g, g.now), fmt_value(g, g.before), g.change, verdict(g.met),
                    g.goal.seed] for g in goals])
    doc.save(out)


def write_xlsx(out: IO[bytes], *, home: str, profile: Profile | None, scores: Scores,
               goals: list[GoalResult]) -> None:
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    title_f = book.add_format({"bold": True, "font_size": 14})
    head_f = book.add_format({"bold": True, "border": 1, "text_wrap": True, "align": "center",
                              "valign": "vcenter", "bg_color": "#D9E1F2"})
    cell_f = book.add_format({"border": 1})
    pct_f = book.add_format({"border": 1, "num_format": "0.0%"})
    ws = book.add_worksheet("考核排名")
    ws.write_string(0, 0, _title(home, scores), title_f)
    ws.write_string(1, 0, _basis(profile, scores))
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 24)
    if scores.scoring is not None:
        # Per point: the cases counted and the points applied, in two columns, so they sum.
        head = ["名次", "承办单位", "收到件数"]
        for p in scores.points:
            head += [f"{p.label}·件数", f"{p.label}·分值"]
        head += ["扣分", "加分", "得分"]
        ws.write_row(3, 0, head, head_f)
        ws.set_row(3, 45)
        ws.freeze_panes(4, 2)
        for r, u in enumerate(scores.units, start=4):
            row = [u.rank, u.unit, u.cases]
            for res in u.points:
                row += [res.cases, res.applied]
            row += [u.deductions, u.additions, u.score]
            for col, v in enumerate(row):
                if isinstance(v, str):
                    ws.write_string(r, col, v, cell_f)
                else:
                    ws.write_number(r, col, v, cell_f)
        if scores.unassigned:
            ws.write_string(len(scores.units) + 5, 1,
                            f"另有{scores.unassigned.cases}件尚未交办，不计入任何单位。")
        rules = book.add_worksheet("考核项目")
        rules.write_row(0, 0, ["项目", "计数", "每件分值", "封顶", "依据"], head_f)
        rules.set_column(0, 0, 30)
        rules.set_column(4, 4, 30)
        for i, p in enumerate(scores.points, start=1):
            rules.write_string(i, 0, p.label)
            rules.write_string(i, 1, _count_label(p.count))
            rules.write_number(i, 2, p.points)
            rules.write_string(i, 3, f"{p.cap:g}" if p.cap else "—")
            rules.write_string(i, 4, p.seed)
    else:
        ws.write_string(3, 0, NO_SCORING)
    if goals:
        gs = book.add_worksheet("工作目标")
        gs.write_row(0, 0, ["目标", "指标", "要求", "本期", "去年同期", "变化", "是否达到",
                            "依据"], head_f)
        gs.set_column(0, 1, 26)
        for i, g in enumerate(goals, start=1):
            gs.write_string(i, 0, g.goal.label, cell_f)
            gs.write_string(i, 1, MEASURE_LABELS[g.goal.measure], cell_f)
            gs.write_string(i, 2, AIM_LABELS[g.goal.aim], cell_f)
            for col, v in ((3, g.now), (4, g.before)):
                if v is None:
                    gs.write_string(i, col, "—", cell_f)
                else:
                    gs.write_number(i, col, v, pct_f if g.is_rate else cell_f)
            gs.write_string(i, 5, g.change, cell_f)
            gs.write_string(i, 6, verdict(g.met), cell_f)
            gs.write_string(i, 7, g.goal.seed, cell_f)
        base = len(goals) + 3
        gs.write_string(base, 0, "逐月对比", title_f)
        for j, g in enumerate(goals):
            top = base + 1 + j * 4
            gs.write_string(top, 0, g.goal.label, head_f)
            gs.write_string(top + 1, 0, "本年", cell_f)
            gs.write_string(top + 2, 0, "去年同月", cell_f)
            for k, m in enumerate(g.months, start=1):
                gs.write_string(top, k, f"{m.month}月", head_f)
                for row, v in ((top + 1, m.now), (top + 2, m.before)):
                    if v is None:
                        gs.write_string(row, k, "—", cell_f)
                    else:
                        gs.write_number(row, k, v, pct_f if g.is_rate else cell_f)
    book.close()


def _count_label(count: str) -> str:
    from .sources import COUNT_LABELS

    return COUNT_LABELS.get(count, count)
