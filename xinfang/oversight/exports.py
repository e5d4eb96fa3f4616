"""The scorecard's sheet of the supervisor's practices (单位考评表 › 督办与审核): per answering
unit the supervision orders issued in the period — answered, answered late, unanswered past due —
then the review of the period's closed cases and the proxied cases. Written by
``xinfang.reports.outputs.write_scorecard`` into the same workbook."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from xinfang.cases.models import Case
from xinfang.cases.rates import counts
from xinfang.org.models import Membership

from .selectors import home_of, order_figures, review_figures

ORDER_HEADS = ("督办对象", "督办件数", "已答复", "逾期答复", "逾期未答复", "按时答复率")


def write_oversight_sheet(book, *, by: Membership, cases: QuerySet[Case], start: datetime,
                          end: datetime, head_f, cell_f, pct_f) -> None:
    ws = book.add_worksheet("督办与审核")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 5, 12)
    ws.write_string(0, 0, "督办单答复情况（本期下发的督办单，依据：督查后下发督查通报）", head_f)
    for j, text in enumerate(ORDER_HEADS):
        ws.write_string(1, j, text, head_f)
    home = home_of(by)
    figures = order_figures(home, start, end, timezone.now()) if home else {"units": [],
                                                                             "total": {}}
    rows = [*figures["units"], {"unit": "合计", **figures["total"]}] if figures["units"] else []
    r = 2
    for row in rows:
        ws.write_string(r, 0, row["unit"], cell_f)
        for j, key in enumerate(("issued", "answered", "late", "overdue"), start=1):
            ws.write_number(r, j, row.get(key, 0), cell_f)
        on_time = row.get("answered", 0) - row.get("late", 0)
        if row.get("issued"):
            ws.write_number(r, 5, on_time / row["issued"], pct_f)
        else:
            ws.write_string(r, 5, "—", cell_f)
        r += 1
    if not rows:
        ws.write_string(r, 0, "本期无督办单", cell_f)
        r += 1
    r += 1
    reviews = review_figures(cases)
    ws.write_string(r, 0, "结案审核（七项审核，本期收到的信访件）", head_f)
    for j, (label, key) in enumerate((("已审核件数", "reviewed"), ("审核通过件数", "passed"),
                                      ("一次通过件数", "first_time"),
                                      ("提出整改次数", "failed_rounds"))):
        ws.write_string(r + 1 + j, 0, label, cell_f)
        ws.write_number(r + 1 + j, 1, reviews[key], cell_f)
    r += 6
    n = counts(cases)
    ws.write_string(r, 0, "信访代办（按标记为代办的信访件）", head_f)
    for j, (label, key) in enumerate((("代办件数", "proxy_handled"), ("受理件数", "accepted"),
                                      ("代办件办结件数", "proxy_closed"),
                                      ("代办件参与评价件数", "proxy_rated"),
                                      ("代办件满意件数", "proxy_satisfied"))):
        ws.write_string(r + 1 + j, 0, label, cell_f)
        ws.write_number(r + 1 + j, 1, n[key], cell_f)
