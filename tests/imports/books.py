"""Hand-made messy ledgers, built the way offices fill them: title rows, a 填报单位 block, merged
two-row headers, every spelling of a date, a phone and a yes-mark, footnotes under the table."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook

L0_HEAD = ["编号", "信访人姓名", "住址", "电话", "反映问题及主要诉求", "问题类别", "承办单位",
           "责任人", "交办时间", "处理情况", "销号时间"]


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
    ws.append(["填报单位：建安区乡村振兴局", None, None, None, None, None, None, "联系电话：0374-5123456"])
    ws.append([])
    top = ["编号", "信访人信息", None, None, "反映问题及主要诉求 ", "问题类别", "承办单位", "责任人",
           "交办时间", "处理情况", "销号\n时间"]
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
        ["建安2022-001", " 张三明 ", "将官池镇岗朱村3组", 13812345678, "反映危房改造补助未到位",
         "危房改造", "区住建局", "王五", datetime(2022, 3, 5), "已核实并补发", "2022.4.1"],
        ["建安2022-002", "李 四", "五女店镇魏庄村", "138 1234 5679", "要求落实低保",
         "民政救助", "区民政局", "赵六", "2022年3月6日", "正在办理", None],
        [None, "王二", "椹涧乡小河村", "+86 139-1234-5678", "反映小额信贷贴息未发放",
         "小额信贷", "区农业农村局", "", "2022/03/07", "", "2022/03/20"],
        ["建安2022-004", "陈五", "将官池镇霍庄村", "0374-5123456", "反映医疗报销比例",
         "医疗保障", "区医保局", "孙七", "3月8日", "", ""],
        ["建安2022-005", "刘六", "霍庄", "13912345670", "反映残疾人补贴",
         "残疾人保障", "区民政局", "", 44630, "", None],
    ]


def l0_bad_row():
    return ["建安2022-006", "周八", "将官池镇岗朱村", "12345", "反映道路问题", "修路",
            "区住建局", "", "2022.13.40", "", ""]


def l0_book(rows=None, **kw) -> bytes:
    wb = Workbook()
    l0_sheet(wb.active, l0_good_rows() if rows is None else rows, **kw)
    wb.active.title = "2022年台账"
    return save(wb)
