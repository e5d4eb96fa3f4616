"""The printed layout of each ledger, column for column as FORMS.md and the seeds give it.

A ``Layout`` is the title, the optional "填报单位 / 联系电话" block, the header (one row, or two
when a group of columns sits under one merged heading — L1/L2's 三到位一处理), the column widths and
the footnotes. Where FORMS.md and the seed differ in a heading the seed's text is kept (seed wins):
L1's fourth 三到位一处理 column reads "诉求无力的是否思想引导到位" in seed 001 附件1 (L2's reads
"诉求无理的"), and L2's household column carries a space, "是否脱贫户 (监测对象)". L3's "序 号" is
written "序号" (the space is the line break of a narrow Word column). """

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    group: str = ""  # the merged heading above this column in a two-row header
    kind: str = "text"  # text | date | datetime | number


@dataclass(frozen=True)
class Layout:
    code: str
    title: str
    sheet: str
    columns: tuple[Column, ...]
    block: bool = False  # the "填报单位：… 联系电话：…" line above the header
    footnotes: tuple[str, ...] = ()

    @property
    def header_rows(self) -> int:
        return 2 if any(col.group for col in self.columns) else 1

    @property
    def first_header_row(self) -> int:
        return 2 if self.block else 1  # the title is row 0, the block row 1

    @property
    def first_data_row(self) -> int:
        return self.first_header_row + self.header_rows

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(col.title for col in self.columns)


THREE_AND_ONE = "三到位一处理"
CATEGORY_NOTE = ("1. 问题类别栏选择填写：防返贫监测、帮扶措施、资金项目、危房改造、"
                 "小额信贷、民政救助、医疗保障、残疾人补贴、其他类；")
LOCALITY_NOTE = "2. 问题所属地栏填写：**乡（镇）**村（社区）。"


def _three(unreasonable: str, width: float = 11) -> tuple[Column, ...]:
    return (
        Column("诉求合理的是否解决到位", width, THREE_AND_ONE),
        Column(f"诉求{unreasonable}的是否思想引导到位", width, THREE_AND_ONE),
        Column("生活困难的是否帮扶救助到位", width, THREE_AND_ONE),
        Column("行为违法的是否依法处理", width, THREE_AND_ONE),
    )


L0 = Layout(
    code="L0",
    title="信访事项台账",
    sheet="信访事项台账",
    columns=(
        Column("编号", 24), Column("信访人姓名", 14), Column("住址", 30), Column("电话", 16),
        Column("反映问题及主要诉求", 50), Column("问题类别", 16), Column("承办单位", 28),
        Column("责任人", 10), Column("交办时间", 17, kind="datetime"), Column("处理情况", 40),
        Column("销号时间", 17, kind="datetime"),
    ),
)

L1 = Layout(
    code="L1",
    title="不稳定因素排查处置台账",
    sheet="不稳定因素排查处置台账",
    block=True,
    columns=(
        Column("序号", 6, kind="number"), Column("排查时间", 12, kind="date"),
        Column("信访人姓名", 11), Column("联系方式", 14), Column("是否脱贫户(监测对象)", 10),
        Column("问题所属地", 18), Column("反映问题", 36), Column("问题类别", 11),
        Column("是否为新排查出的不稳定因素", 11), Column("责任单位", 16),
        *_three("无力"),
        Column("是否稳定", 8), Column("备注", 18),
    ),
    footnotes=("备注:", CATEGORY_NOTE, LOCALITY_NOTE),
)

L2 = Layout(
    code="L2",
    title="涉贫信访舆情积案台账",
    sheet="涉贫信访舆情积案台账",
    block=True,
    columns=(
        Column("序号", 6, kind="number"), Column("初访时间", 12, kind="date"),
        Column("信访人姓名", 11), Column("联系方式", 14), Column("是否脱贫户 (监测对象)", 10),
        Column("问题所属地(乡镇、村)", 18), Column("反映问题", 34), Column("问题类别", 11),
        Column("积案原因", 20), Column("包案人", 12), Column("责任单位", 16),
        *_three("无理"),
        Column("是否稳定", 8), Column("备注", 18),
    ),
    footnotes=("备注:", CATEGORY_NOTE, LOCALITY_NOTE),
)

L3 = Layout(
    code="L3",
    title="乡镇涉贫信访干部队伍统计表",
    sheet="乡镇涉贫信访干部队伍统计表",
    columns=(
        Column("序号", 6, kind="number"), Column("单位", 20), Column("分管领导", 12),
        Column("职务", 14), Column("办公电话", 15), Column("手机号码", 15),
        Column("涉贫信访专干", 12), Column("办公电话", 15), Column("手机号码", 15),
    ),
)

LAYOUTS = {layout.code: layout for layout in (L0, L1, L2, L3)}
