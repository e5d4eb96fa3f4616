"""The columns of L0, L1 and L2 (spec FORMS.md) as offices write them, and how a sheet is told
to be one of them by its header text."""

from __future__ import annotations

from dataclasses import dataclass

from .cells import label


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # the header as FORMS.md writes it (shown in errors)
    aliases: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()  # matched inside a longer label (the 三到位一处理 four)

    def matches(self, text: str) -> bool:
        if not text:
            return False
        if text in (label(self.title), *map(label, self.aliases)):
            return True
        return any(f in text for f in self.fragments)


_NAME = Column("name", "信访人姓名", ("姓名", "信访人"))
_CONTACT = Column("phone", "联系方式", ("联系电话", "电话", "手机号码", "手机"))
_POOR = Column(
    "poor",
    "是否脱贫户(监测对象)",
    ("是否脱贫户", "是否脱贫户(监测户)", "是否脱贫(监测)户", "是否脱贫户或监测对象"),
)
_LOCALITY = Column(
    "locality", "问题所属地", ("问题所属地(乡镇、村)", "问题属地", "所属地", "问题所属地(乡镇村)")
)
_TOWNSHIP = Column("township", "乡镇", ("乡(镇)", "乡镇(街道)", "所属乡镇"))
_VILLAGE = Column("village", "村", ("村(社区)", "行政村", "所属村", "村(居)"))
_PROBLEM = Column("problem", "反映问题", ("反映问题及主要诉求", "主要问题", "反映的问题"))
_CATEGORY = Column("category", "问题类别", ("类别", "问题类型"))
_UNIT = Column("unit", "责任单位", ("承办单位",))
_FOUR = (
    Column("solved", "诉求合理的是否解决到位", fragments=("解决到位",)),
    Column("guided", "诉求无理的是否思想引导到位", fragments=("引导到位",)),
    Column("assisted", "生活困难的是否帮扶救助到位", fragments=("救助到位",)),
    Column("dealt_by_law", "行为违法的是否依法处理", fragments=("依法处理",)),
)
_STABLE = Column("stable", "是否稳定")
_NOTE = Column("note", "备注")
_SEQ = Column("seq", "序号")


@dataclass(frozen=True)
class Layout:
    code: str
    title: str
    columns: tuple[Column, ...]
    marks: tuple[str, ...]  # labels only this ledger has: one of them must be in the header
    required: tuple[str, ...]  # column keys that must be found


L0 = Layout(
    "L0",
    "信访案件台账",
    (
        Column("number", "编号", ("信访件编号", "案件编号")),
        _NAME,
        Column("address", "住址", ("家庭住址", "地址")),
        Column("phone", "电话", ("联系电话", "联系方式", "手机号码")),
        Column("problem", "反映问题及主要诉求", ("反映问题", "主要诉求", "反映问题及诉求")),
        _CATEGORY,
        Column("unit", "承办单位", ("责任单位",)),
        Column("responsible", "责任人"),
        Column("assigned_on", "交办时间", ("交办日期",)),
        Column("handling", "处理情况", ("办理情况",)),
        Column("closed_on", "销号时间", ("销号日期", "办结时间")),
        # Not in FORMS.md's L0, but offices that kept it add it: matched to earlier cases.
        Column("id_number", "身份证号", ("身份证号码", "公民身份号码")),
    ),
    marks=("反映问题及主要诉求", "交办时间", "销号时间", "承办单位"),
    required=("name", "problem", "category", "assigned_on"),
)

L1 = Layout(
    "L1",
    "不稳定因素排查处置台账",
    (
        _SEQ,
        Column("screened_on", "排查时间", ("排查日期",)),
        _NAME,
        _CONTACT,
        _POOR,
        _LOCALITY,
        _TOWNSHIP,
        _VILLAGE,
        _PROBLEM,
        _CATEGORY,
        Column(
            "is_new",
            "是否为新排查出的不稳定因素",
            ("是否新排查出的不稳定因素",),
            fragments=("新排查",),
        ),
        _UNIT,
        *_FOUR,
        _STABLE,
        _NOTE,
    ),
    marks=("排查时间", "是否为新排查出的不稳定因素", "排查日期"),
    required=("screened_on", "name", "problem", "category"),
)

L2 = Layout(
    "L2",
    "涉贫信访舆情积案台账",
    (
        _SEQ,
        Column("first_visit", "初访时间", ("初访日期", "首次信访时间")),
        _NAME,
        _CONTACT,
        _POOR,
        _LOCALITY,
        _TOWNSHIP,
        _VILLAGE,
        _PROBLEM,
        _CATEGORY,
        Column("reason", "积案原因"),
        Column("owner", "包案人", ("包案领导",)),
        _UNIT,
        *_FOUR,
        _STABLE,
        _NOTE,
    ),
    marks=("积案原因", "包案人", "初访时间", "包案领导"),
    required=("first_visit", "name", "problem", "category"),
)

LAYOUTS = (L0, L1, L2)

KNOWN_LABELS = {
    label(t) for layout in LAYOUTS for col in layout.columns for t in (col.title, *col.aliases)
} | {"三到位一处理"}


def recognise(labels: list[str]) -> tuple[Layout | None, dict[str, int]]:
    """The ledger whose own labels the header holds and that matches most columns, and where
    each of its columns is (key → column index)."""
    best: tuple[int, Layout | None, dict[str, int]] = (0, None, {})
    for layout in LAYOUTS:
        if not any(label(m) in labels for m in layout.marks):
            continue
        where = columns_of(layout, labels)
        if len(where) > best[0]:
            best = (len(where), layout, where)
    return best[1], best[2]


def columns_of(layout: Layout, labels: list[str]) -> dict[str, int]:
    where: dict[str, int] = {}
    for col in layout.columns:
        # An exact label first (联系方式 is not 电话's fragment), then a fragment.
        for i, text in enumerate(labels):
            if text and text in (label(col.title), *map(label, col.aliases)):
                where.setdefault(col.key, i)
                break
        else:
            for i, text in enumerate(labels):
                if col.fragments and col.matches(text):
                    where.setdefault(col.key, i)
                    break
    return where


def column_title(layout: Layout, key: str) -> str:
    return next(c.title for c in layout.columns if c.key == key)
