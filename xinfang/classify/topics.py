"""From the model's topics to a profile's own categories.

The seeds name their categories differently (seed 001 附件4 has 12 columns, henan's seed 003 has
10 other names, jianan adds 防返贫监测 and 残疾人补贴). A topic goes to the first name in its row
below that the profile lists; a topic whose names the profile has none of goes to 其他 (when the
profile has it). A profile written later with names of its own is served the same way: its names
that equal a topic take it, the rest fall to 其他 — add a row here for a new synonym.
"""

from __future__ import annotations

OTHER = "其他"

# topic → the category names it is filed under, in order of preference.
NAMES: dict[str, tuple[str, ...]] = {
    "精准识别": ("精准识别",),
    "精准退出": ("精准退出", "精准识别"),  # henan's 精准识别 covers 识别 and 退出 (seed 003)
    "防返贫监测": ("防返贫监测", "精准识别"),  # the L4 table files monitoring under 精准识别
    "产业帮扶": ("产业带贫", "帮扶措施"),
    "就业帮扶": ("就业培训", "帮扶措施"),
    "公益岗位": ("公益岗位", "帮扶措施"),
    "帮扶措施": ("帮扶措施",),
    "资金项目": ("资金项目", "项目资金公开公示"),
    "危房改造": ("危房改造", "D级危房改造"),
    "易地搬迁": ("易地搬迁", "易地扶贫搬迁"),
    "小额信贷": ("小额信贷", "金融扶贫"),
    "民政救助": ("民政救助",),
    "医疗保障": ("医疗保障",),
    "教育保障": ("教育保障",),
    "残疾人补贴": ("残疾人补贴", "残疾人保障"),
    "残疾人保障": ("残疾人保障",),
    "干部作风": ("干部作风",),
    "其他": (OTHER,),
}


def category_of(topic: str, categories: tuple[str, ...]) -> str | None:
    """The profile category a topic is filed under (None: the profile has neither it nor 其他)."""
    for name in NAMES.get(topic, (topic,)):
        if name in categories:
            return name
    return OTHER if OTHER in categories else None
