"""Hand-made messy ledgers, built the way offices fill them: title rows, a 填报单位 block, merged
two-row headers, every spelling of a date, a phone and a yes-mark, footnotes under the table."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook

L0_HEAD = [
    "编号",
    "信访人姓名",
    "住址",
    "电话",
    "反映问题及主要诉求",
    "问题类别",
    "承办单位",
    "责任人",
    "交办时间",
    "处理情况",
    "销号时间",
]


def save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def l0_sheet(ws, rows, *, title="2022年建安区信访案件台账", footnote=True):
    """Title merged over the width, the 填报单位 block, a blank row, then a two-row header:
    信访人信息 merged over 姓名 | 住址 | 电话, every other label merged down both rows."""
    width = len(L0_HEAD)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append(
        ["填报单位：建安区乡村振兴局", None, None, None, None, None, None, "联系电话：0374-5123456"]
    )
    ws.append([])
    top = [
        "编号",
        "信访人信息",
        None,
        None,
        "反映问题及主要诉求 ",
        "问题类别",
        "承办单位",
        "责任人",
        "交办时间",
        "处理情况",
        "销号\n时间",
    ]
    ws.append(top)
    ws.append([None, "信访人姓名", "住  址", "电话"] + [None] * 7)
    ws.merge_cells("B4:D4")
    for col in "AEFGHIJK":
        ws.merge_cells(f"{col}4:{col}5")
    for r in rows:
        ws.append(r)
    if footnote:
        n = ws.max_row + 1
        ws.append(["注：问题类别按建安区问题类别填写；住址写作“X乡(镇)Y村”。"])
        ws.merge_cells(start_row=n, start_column=1, end_row=n, end_column=width)
        ws.append(["填表人：李文静"])
    return ws


def l0_good_rows():
    return [
        [
            "建安2022-001",
            " 张三明 ",
            "将官池镇岗朱村3组",
            13812345678,
            "反映危房改造补助未到位",
            "危房改造",
            "区住建局",
            "王五",
            datetime(2022, 3, 5),
            "已核实并补发",
            "2022.4.1",
        ],
        [
            "建安2022-002",
            "李 四",
            "五女店镇魏庄村",
            "138 1234 5679",
            "要求落实低保",
            "民政救助",
            "区民政局",
            "赵六",
            "2022年3月6日",
            "正在办理",
            None,
        ],
        [
            None,
            "王二",
            "椹涧乡小河村",
            "+86 139-1234-5678",
            "反映小额信贷贴息未发放",
            "小额信贷",
            "区农业农村局",
            "",
            "2022/03/07",
            "",
            "2022/03/20",
        ],
        [
            "建安2022-004",
            "陈五",
            "将官池镇霍庄村",
            "0374-5123456",
            "反映医疗报销比例",
            "医疗保障",
            "区医保局",
            "孙七",
            "3月8日",
            "",
            "",
        ],
        [
            "建安2022-005",
            "刘六",
            "霍庄",
            "13912345670",
            "反映残疾人补贴",
            "残疾人保障",
            "区民政局",
            "",
            44630,
            "",
            None,
        ],
    ]


def l0_bad_row():
    return [
        "建安2022-006",
        "周八",
        "将官池镇岗朱村",
        "12345",
        "反映道路问题",
        "修路",
        "区住建局",
        "",
        "2022.13.40",
        "",
        "",
    ]


def l0_book(rows=None, **kw) -> bytes:
    wb = Workbook()
    l0_sheet(wb.active, l0_good_rows() if rows is None else rows, **kw)
    wb.active.title = "2022年台账"
    return save(wb)


def l1_sheet(ws):
    """L1 with the 填报单位 block, 问题所属地 in two columns under a merged head, the four
    三到位一处理 columns merged under their head, every yes-mark spelling."""
    head = [
        "序号",
        "排查时间",
        "信访人姓名",
        "联系方式",
        "是否脱贫户（监测对象）",
        "问题所属地",
        None,
        "反映问题",
        "问题类别",
        "是否为新排查出的不稳定因素",
        "责任单位",
        "三到位一处理",
        None,
        None,
        None,
        "是否稳定",
        "备注",
    ]
    ws.append(["2022年5月不稳定因素排查处置台账"])
    ws.merge_cells("A1:Q1")
    ws.append(
        [
            "填报单位：将官池镇",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "联系电话：0374-5123456",
        ]
    )
    ws.append(head)
    ws.append(
        [None] * 5
        + ["乡镇", "村（社区）"]
        + [None] * 4
        + [
            "诉求合理的是否解决到位",
            "诉求无理的是否思想引导到位",
            "生活困难的是否帮扶救助到位",
            "行为违法的是否依法处理",
        ]
        + [None, None]
    )
    for col in "ABCDEHIJKPQ":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("F3:G3")
    ws.merge_cells("L3:O3")
    ws.append(
        [
            1,
            "2022.5.10",
            "孙红",
            "0374 5123457",
            "√",
            "将官池镇",
            "岗朱村",
            "反映低保评定不公",
            "民政救助",
            "是",
            "区民政局",
            "✓",
            None,
            None,
            None,
            "是",
            "",
        ]
    )
    ws.append(
        [
            2,
            "2022年5月11日",
            "钱明",
            13612345678,
            "否",
            "五女店镇",
            "魏庄村",
            "反映危房改造",
            "危房改造",
            "否",
            "五女店镇",
            "×",
            "√",
            None,
            None,
            "否",
            "继续跟进",
        ]
    )
    ws.append(
        [
            3,
            "5月12日",
            "吴亮",
            "",
            "",
            "椹涧乡",
            "",
            "反映道路",
            "其他",
            "",
            "区住建局",
            None,
            None,
            None,
            None,
            None,
            "",
        ]
    )
    ws.append(
        [
            4,
            "2022.5.13",
            "郑七",
            "",
            "也许",
            "不存在镇",
            "",
            "反映问题",
            "其他",
            "是",
            "",
            None,
            None,
            None,
            None,
            None,
            "",
        ]
    )
    ws.append([5])  # a pre-numbered empty template line
    ws.append(["说明：问题所属地写作“X乡(镇)Y村(社区)”。"])
    ws.merge_cells(f"A{ws.max_row}:Q{ws.max_row}")
    return ws


def l2_sheet(ws):
    """L2 with 问题所属地 as one "X乡(镇)Y村" column and a one-row header."""
    ws.append(["2022年涉贫信访舆情积案台账"])
    ws.append(
        [
            "序号",
            "初访时间",
            "信访人姓名",
            "联系方式",
            "是否脱贫户(监测对象)",
            "问题所属地(乡镇、村)",
            "反映问题",
            "问题类别",
            "积案原因",
            "包案人",
            "责任单位",
            "诉求合理的是否解决到位",
            "诉求无理的是否思想引导到位",
            "生活困难的是否帮扶救助到位",
            "行为违法的是否依法处理",
            "是否稳定",
            "备注",
        ]
    )
    ws.append(
        [
            1,
            datetime(2021, 11, 2),
            "冯九",
            "+86 137 1234 5678",
            "是",
            "将官池镇(镇)大路陈村",
            "反映扶贫资金被截留",
            "资金项目",
            "诉求过高",
            "王建国",
            "区农业农村局",
            "否",
            "是",
            None,
            None,
            "是",
            "",
        ]
    )
    ws.append(
        [
            2,
            "2021-12-01",
            "卫十",
            "159-1234-5678",
            "",
            "五女店镇 五女店村",
            "反映易地搬迁安置",
            "易地搬迁",
            "历史遗留",
            "张志强",
            "",
            None,
            None,
            "√",
            None,
            "",
            "备注一",
        ]
    )
    return ws


def mixed_book() -> bytes:
    wb = Workbook()
    l0_sheet(wb.active, l0_good_rows()[:2])
    wb.active.title = "L0"
    l1_sheet(wb.create_sheet("排查"))
    l2_sheet(wb.create_sheet("积案"))
    wb.create_sheet("说明").append(["本工作簿供导入测试"])
    return save(wb)
