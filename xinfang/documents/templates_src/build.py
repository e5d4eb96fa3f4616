"""Build the repository's DOCX templates (D1–D9 of FORMS.md) with python-docx.

Run ``python -m xinfang.documents.templates_src.build`` after changing a layout; the .docx files it
writes under ``xinfang/documents/templates/`` are committed and are what docxtpl fills. Each cell
that receives a value holds one Jinja tag in one run, so docxtpl finds it whole.

Page: A4 with the margins of GB/T 9704 (党政机关公文格式): top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm. Body in 仿宋_GB2312, titles in 方正小标宋简体 (LibreOffice substitutes a CJK font
where these are not installed).

The layouts of D1 and D2 are Jianan's forms (seed 001; FORMS.md calls them 附件5 and 附件6, the
seed prints them under "附件 4" and "附件 5"): a six-column table, labels and values as there.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

OUT = Path(__file__).resolve().parent.parent / "templates"
BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)


def new_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(14)
    style.element.get_or_add_rPr()
    fonts = style.element.rPr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = style.element.rPr.makeelement(qn("w:rFonts"), {})
        style.element.rPr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), BODY_FONT)
    return doc


def title(doc, text: str, sub: str = "") -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(text), TITLE_FONT, 22)
    if sub:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(sub), BODY_FONT, 14)


def para(doc, text: str, *, align=None, size: float = 14, bold: bool = False, indent=True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    elif indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    _font(p.add_run(text), BODY_FONT, size, bold)
    return p


def heading(doc, text: str) -> None:
    p = doc.add_paragraph()
    _font(p.add_run(text), "黑体", 14, True)


# Values that must stay on one line (a case number broken across lines is misread): a smaller
# size and w:noWrap.
ONE_LINE = ("{{ case_number }}", "{{ id_number }}", "{{ petitioner_phone }}",
            "{{ handler_phone }}", "{{ deliverer_phone }}")


def _no_wrap(cell) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    if tcpr.find(qn("w:noWrap")) is None:
        tcpr.append(tcpr.makeelement(qn("w:noWrap"), {}))


def set_cell(cell, text: str, *, center: bool = False, size: float = 12) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if text in ONE_LINE:
        size = min(size, 9)
        _no_wrap(cell)
    lines = text.split("\n")
    p = cell.paragraphs[0]
    for i, line in enumerate(lines):
        if i:
            p = cell.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif line.startswith(">"):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            line = line[1:]
        _font(p.add_run(line), BODY_FONT, size)


def grid(doc, rows: list[list[tuple[str, int]]], widths_mm: list[float]):
    """A table from rows of (text, span) cells; a label is centered, a value left."""
    table = doc.add_table(rows=len(rows), cols=len(widths_mm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, row in enumerate(rows):
        col = 0
        for text, span in row:
            cell = table.cell(r, col)
            if span > 1:
                cell = cell.merge(table.cell(r, col + span - 1))
            label = not text.startswith("{") and "\n" not in text and len(text) <= 10
            set_cell(cell, text, center=label)
            col += span
    # The grid's own column widths, fixed: LibreOffice lays a table out from w:tblGrid (equal
    # columns unless set), not from each cell's width.
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            cell.width = Mm(widths_mm[i])
    return table


# 156 mm, the text width between GB/T 9704's margins; the case number's column holds
# "建安信〔2026〕0001号" on one line.
SIX = [24, 42, 24, 18, 22, 26]


def query_line(doc) -> None:
    para(
        doc,
        "查询码：{{ query_code }}（凭信访件编号和查询码可查询办理进度并评价）",
        size=10.5,
        indent=False,
    )


def d1():
    doc = new_document()
    title(doc, "信访事项受理告知书")
    para(doc, "{{ office_name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    grid(
        doc,
        [
            [
                ("信访件编号", 1),
                ("{{ case_number }}", 1),
                ("信访人姓名", 1),
                ("{{ petitioner_name }}", 1),
                ("联系电话", 1),
                ("{{ petitioner_phone }}", 1),
            ],
            [("身份证号", 1), ("{{ id_number }}", 1), ("住 址", 1), ("{{ address }}", 3)],
            [("随访人姓名", 1), ("{{ companions }}", 5)],
            [("信访日期", 1), ("{{ received_date }}", 3), ("信访形式", 1), ("{{ channel }}", 1)],
            [("信访事项", 1), ("{{ matter }}", 5)],
            [
                ("办理部门", 1),
                ("{{ handling_unit }}", 1),
                ("经 办 人", 1),
                ("{{ handler }}", 1),
                ("联系电话", 1),
                ("{{ handler_phone }}", 1),
            ],
            [
                ("信访事项\n实体性受\n理告知", 1),
                (
                    "你（们）反映的问题，予以受理。按照《河南省乡村振兴局关于印发信访工作制度》"
                    "规定，将于{{ reply_by }}（按办理时限要求不超过 10 天）前办结，并书面答复"
                    "你（们）。在此期间，不应重复信访或越级上访。\n特此告知。\n"
                    ">签章：{{ office_name }}\n>{{ issue_date }}",
                    5,
                ),
            ],
            [
                ("送达时间", 1),
                ("{{ delivered_at }}", 1),
                ("送 达 人", 1),
                ("{{ deliverer }}", 1),
                ("联系电话", 1),
                ("{{ deliverer_phone }}", 1),
            ],
            [("信访人意见", 1), ("\n\n信访人（签字）：\n>年    月    日", 5)],
        ],
        SIX,
    )
    query_line(doc)
    return doc


def d2():
    doc = new_document()
    title(doc, "信访事项处理意见书")
    para(doc, "{{ office_name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    grid(
        doc,
        [
            [
                ("信访件编号", 1),
                ("{{ case_number }}", 1),
                ("信访人姓名", 1),
                ("{{ petitioner_name }}", 1),
                ("联系电话", 1),
                ("{{ petitioner_phone }}", 1),
            ],
            [("身份证号", 1), ("{{ id_number }}", 1), ("住址或单位", 1), ("{{ address }}", 3)],
            [("随访人姓名", 1), ("{{ companions }}", 5)],
            [("信访事项", 1), ("{{ matter }}", 5)],
            [
                ("办理单位", 1),
                ("{{ handling_unit }}", 1),
                ("经办人", 1),
                ("{{ handler }}", 1),
                ("联系电话", 1),
                ("{{ handler_phone }}", 1),
            ],
            [
                ("处理意见", 1),
                (
                    "{{ opinion }}\n{{ review_notice }}\n>签章：{{ office_name }}\n"
                    ">{{ issue_date }}",
                    5,
                ),
            ],
            [
                ("送达时间", 1),
                ("{{ delivered_at }}", 1),
                ("送达人", 1),
                ("{{ deliverer }}", 1),
                ("联系电话", 1),
                ("{{ deliverer_phone }}", 1),
            ],
            [("信访人意见", 1), ("\n\n信访人（签字）：\n>年    月    日", 5)],
        ],
        SIX,
    )
    return doc


def d3():
    doc = new_document()
    title(doc, "送 达 回 证")
    grid(
        doc,
        [
            [("送达文书", 1), ("{{ document_title }}", 3)],
            [("信访件编号", 1), ("{{ case_number }}", 3)],
            [("受送达人", 1), ("{{ recipient }}", 1), ("送达方式", 1), ("{{ mode }}", 1)],
            [("送达时间", 1), ("{{ delivered_at }}", 1), ("送达人", 1), ("{{ deliverer }}", 1)],
            [("受送达人签收", 1), ("{{ receipt }}\n\n>签名：            年    月    日", 3)],
            [("拒收理由", 1), ("{{ refusal_reason }}", 3)],
            [("见证人", 1), ("{{ witness }}", 3)],
            [("备注", 1), ("{{ office_name }}", 3)],
        ],
        [32, 50, 30, 44],
    )
    return doc


def d4():
    doc = new_document()
    title(doc, "信访事项满意度评价表")
    grid(
        doc,
        [
            [
                ("信访件编号", 1),
                ("{{ case_number }}", 1),
                ("信访人", 1),
                ("{{ petitioner_name }}", 1),
            ],
            [("信访事项", 1), ("{{ matter }}", 3)],
            [("办理单位", 1), ("{{ handling_unit }}", 3)],
            [("评价", 1), ("{{ rating_boxes }}", 3)],
            [("理由", 1), ("{{ reasons }}", 3)],
            [("评价日期", 1), ("{{ rating_date }}", 1), ("信访人签名", 1), ("", 1)],
        ],
        [32, 50, 30, 44],
    )
    return doc


def d5():
    doc = new_document()
    title(doc, "停访承诺书", "（息诉息访书）")
    para(doc, "信访件编号：{{ case_number }}", indent=False)
    para(doc, "本人{{ petitioner_name }}，就{{ matter }}一事向{{ office_name }}反映。")
    para(doc, "经办理，处理结果为：{{ outcome }}")
    para(doc, "本人对上述处理结果表示接受，并承诺：{{ pledge }}")
    para(doc, "承诺人（签字）：", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc, "{{ signed_on }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    title(doc, "停访息诉协议")
    para(doc, "甲方：{{ office_name }}", indent=False)
    para(doc, "乙方：{{ petitioner_name }}（信访人）", indent=False)
    para(
        doc,
        "乙方就{{ matter }}（信访件编号{{ case_number }}）提出信访。经甲方依法依规办理，"
        "处理结果为：{{ outcome }}。经双方协商，达成如下协议：",
    )
    para(doc, "一、甲方已按照上述处理意见落实到位，对后续事项依政策继续做好服务工作。")
    para(
        doc,
        "二、乙方对处理结果表示认可，自本协议签订之日起停止就同一事项上访，息诉罢访，"
        "不再重复信访、越级上访。",
    )
    para(doc, "三、乙方如有新的诉求，应通过合法渠道逐级反映。")
    para(doc, "四、本协议一式两份，甲乙双方各执一份，自双方签字（盖章）之日起生效。")
    para(doc, "甲方（盖章）：                乙方（签字）：", indent=False)
    para(doc, "{{ signed_on }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def d6():
    doc = new_document()
    title(doc, "信访事项预警提醒单")
    grid(
        doc,
        [
            [("信访件编号", 1), ("{{ case_number }}", 1), ("下发时间", 1), ("{{ issued_at }}", 1)],
            [("信访人", 1), ("{{ petitioner_name }}", 1), ("问题属地", 1), ("{{ locality }}", 1)],
            [("信访事项", 1), ("{{ matter }}", 3)],
            [("预警原因", 1), ("{{ reasons }}", 3)],
            [("发送", 1), ("{{ to_whom }}", 3)],
            [("抄报", 1), ("{{ copied_to }}", 3)],
            [
                ("回复时限", 1),
                (
                    "收到本单后7个工作日内（{{ due_date }}前）再次调查核实，剖析问题原因，"
                    "会商化解和稳控方案，落实化解、稳控措施。",
                    3,
                ),
            ],
            [("原因分析", 1), ("{{ cause }}", 3)],
            [("化解稳控措施", 1), ("{{ measures }}", 3)],
            [("审阅签字", 1), ("{{ approver }}\n>年    月    日", 3)],
        ],
        [32, 50, 30, 44],
    )
    para(doc, "{{ office_name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    return doc


def d7():
    doc = new_document()
    title(doc, "脱贫攻坚舆情信访登记表", "（交办单）")
    grid(
        doc,
        [
            [
                ("信访件编号", 1),
                ("{{ case_number }}", 1),
                ("登记时间", 1),
                ("{{ registered_at }}", 1),
            ],
            [
                ("信访人", 1),
                ("{{ petitioner_name }}", 1),
                ("联系电话", 1),
                ("{{ petitioner_phone }}", 1),
            ],
            [("住址", 1), ("{{ address }}", 1), ("来访人数", 1), ("{{ headcount }}", 1)],
            [("信访形式", 1), ("{{ channel }}", 1), ("来源", 1), ("{{ source }}", 1)],
            [("信访事项", 1), ("{{ matter }}", 3)],
            [("主要诉求", 1), ("{{ demands }}", 3)],
            [("处置建议", 1), ("{{ proposal }}\n>经办人：{{ clerk }}", 3)],
            [("领导审签", 1), ("{{ sign_off }}", 3)],
            [
                ("牵头单位", 1),
                ("{{ lead_unit }}", 1),
                ("协办单位", 1),
                ("{{ assisting_units }}", 1),
            ],
            [("交办时间", 1), ("{{ assigned_at }}", 1), ("接收人", 1), ("{{ receiver }}", 1)],
        ],
        [32, 50, 30, 44],
    )
    para(doc, "{{ office_name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    return doc


def d8():
    doc = new_document()
    title(doc, "督  办  单")
    grid(
        doc,
        [
            [("信访件编号", 1), ("{{ case_number }}", 1), ("督办时间", 1), ("{{ issued_at }}", 1)],
            [("承办单位", 1), ("{{ handling_unit }}", 3)],
            [("信访事项", 1), ("{{ matter }}", 3)],
            [("督办事由", 1), ("{{ late_items }}", 3)],
            [("督办要求", 1), ("{{ required_action }}", 3)],
            [("办结时限", 1), ("{{ due_date }}", 3)],
            [("督办人", 1), ("{{ issuer }}", 3)],
        ],
        [32, 50, 30, 44],
    )
    para(doc, "{{ office_name }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=12)
    return doc


def d9():
    doc = new_document()
    title(doc, "{{ report_title }}")
    para(doc, "信访件编号：{{ case_number }}", indent=False)
    heading(doc, "一、基本情况")
    para(
        doc,
        "信访人：{{ petitioner_name }}；信访形式：{{ channel }}；信访时间：{{ received_date }}；"
        "问题属地：{{ locality }}。",
    )
    para(doc, "反映事项：{{ matter }}")
    heading(doc, "二、诉求与核查情况")
    para(doc, "{{ findings }}")
    heading(doc, "三、办理情况")
    para(doc, "{{ handling }}")
    heading(doc, "四、报告内容")
    para(doc, "{{ report_text }}")
    heading(doc, "五、办理结果")
    para(doc, "{{ outcome }}")
    para(doc, "报告单位：{{ reporting_unit }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc, "{{ report_date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


BUILDERS = {
    "D1": d1,
    "D2": d2,
    "D3": d3,
    "D4": d4,
    "D5": d5,
    "D6": d6,
    "D7": d7,
    "D8": d8,
    "D9": d9,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for code, build in BUILDERS.items():
        doc = build()
        doc.core_properties.author = "xinfang"
        doc.save(OUT / f"{code}.docx")
        print(OUT / f"{code}.docx")


if __name__ == "__main__":
    main()
