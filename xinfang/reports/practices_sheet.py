"""The scorecard's sheet of the practices (issue 17): per unit, in the period, the return visits
made and how many were (basically) satisfied, the meetings held, and each practice missed (the
sweep's flags: a return visit, a meeting, a watch-list review, a persuade follow-up, a campaign
task or report) — the evidence a unit's score can take. Three grouped queries
(``xinfang.practices.reading.practice_counts``)."""

from __future__ import annotations

from collections.abc import Mapping

from xinfang.org.models import Unit, names_told_apart

COLUMNS = (
    ("visits", "回访件数"), ("satisfied", "满意和基本满意"), ("meetings", "召开会议次数"),
    ("missed_return_visit", "回访逾期"), ("missed_meeting", "未按期召开会议"),
    ("missed_watch", "重点人员复核逾期"), ("missed_persuade", "劝返跟进逾期"),
    ("missed_campaign", "专项任务或报告逾期"),
)  # fmt: skip


def practice_rows(home: Unit, start, end, *, then: Mapping[int, str] | None = None
                  ) -> list[tuple[str, dict[str, int]]]:
    from xinfang.practices.reading import practice_counts

    counts = practice_counts(home, start, end)
    names = names_told_apart(counts, then=then)
    rows = [(names.get(k, "未交办") if k else "未交办", v) for k, v in counts.items()]
    return sorted(rows, key=lambda r: r[0])


def write_practices_sheet(book, *, home: Unit, period, head_f, cell_f, pct_f,
                          then: Mapping[int, str] | None = None) -> None:
    ws = book.add_worksheet("工作机制")
    ws.set_column(0, 0, 22)
    ws.set_column(1, len(COLUMNS) + 1, 13)
    ws.write_string(0, 0, f"{(then or {}).get(home.pk, home.name)}工作机制落实情况"
                          f"（{period.label}）")
    ws.write_string(1, 0, "单位", head_f)
    for j, (_, label) in enumerate(COLUMNS, start=1):
        ws.write_string(1, j, label, head_f)
    ws.write_string(1, len(COLUMNS) + 1, "回访满意率", head_f)
    start, end = period.bounds()
    for r, (name, n) in enumerate(practice_rows(home, start, end, then=then), start=2):
        ws.write_string(r, 0, name, cell_f)
        for j, (key, _) in enumerate(COLUMNS, start=1):
            ws.write_number(r, j, n.get(key, 0), cell_f)
        visits = n.get("visits", 0)
        if visits:
            ws.write_number(r, len(COLUMNS) + 1, n.get("satisfied", 0) / visits, pct_f)
        else:
            ws.write_string(r, len(COLUMNS) + 1, "—", cell_f)
