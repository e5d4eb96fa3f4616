"""Benchmark: per-call time of ``compute_due`` against a raw loop measured in the same run.

Run from the repository root::

    .venv/bin/python bench/bench_deadlines.py [--repeat 15] [--calls 2000]

Performance targets live here and in docs/PERFORMANCE.md, never in timed unit tests: a shared
CI machine makes a wall-clock assertion flaky, and a flaky test teaches people to ignore red.

What is measured, each as the median over ``--repeat`` repetitions of ``--calls`` calls:

- ``compute_due`` for 15 days, 60 days and 60 working days against the shipped calendar
  (every year ``chinese_calendar`` knows), with its day cache warm — as in a running process,
  where the calendar is built once and reused by every clock;
- the same with a cold day cache (a fresh calendar over the same notices for each call), the
  cost of the first deadline after a calendar is (re)loaded;
- a baseline: a bare loop of ``date + timedelta`` over 60 days with a set lookup, the least
  any day-by-day computation must spend. The ratio says how much the explanation, the
  provisional tracking and the rule handling cost on top of it.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# A standalone script: the repository root is not on sys.path when run as bench/….
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xinfang.rules.calendar import WorkingCalendar  # noqa: E402
from xinfang.rules.deadlines import compute_due  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=SH)

# (label, amount, unit, expected due) — the expected value keeps the bench honest: a change that
# made compute_due fast by making it wrong would fail here rather than look like a win.
CASES = [
    ("15 days", 15, "days", datetime(2026, 3, 18, tzinfo=SH)),
    ("60 days", 60, "days", datetime(2026, 5, 7, tzinfo=SH)),  # rolled past 劳动节
    ("60 working days", 60, "working_days", datetime(2026, 5, 29, tzinfo=SH)),
]


def timed(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call over one batch of ``calls`` calls."""
    gc.disable()  # as timeit does: a collection inside a batch is noise, not the code's cost
    try:
        began = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - began) / calls
    finally:
        gc.enable()


def baseline(start: date, days: int, holidays: set[date]) -> Callable[[], int]:
    one_day = timedelta(days=1)

    def run() -> int:
        d, working = start, 0
        for _ in range(days):
            d = d + one_day
            if d not in holidays and d.weekday() < 5:
                working += 1
        return working

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (median taken)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per batch")
    args = parser.parse_args()

    built = time.perf_counter()
    shipped = WorkingCalendar.shipped()
    built = time.perf_counter() - built
    notices = {y: shipped.notice(y) for y in shipped.years}
    holiday_days = sum(len(n.holidays) for n in notices.values())
    makeup_days = sum(len(n.makeup_workdays) for n in notices.values())

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpu(s)")
    print(
        f"calendar: {len(notices)} shipped years ({min(notices)}–{max(notices)}), "
        f"{holiday_days} holidays, {makeup_days} make-up working days; "
        f"built in {built * 1e3:.0f} ms"
    )
    print(
        f"start {START.isoformat()}; median of {args.repeat} rounds of {args.calls} calls "
        f"({args.calls // 4} for a cold cache)"
    )
    print()

    holidays = {d for n in notices.values() for d in n.holidays}
    subjects: dict[str, tuple[Callable[[], object], int]] = {
        "baseline": (baseline(START.date(), 60, holidays), args.calls),
    }
    for label, amount, unit, expected in CASES:
        got = compute_due(START, amount, unit, calendar=shipped).due
        if got != expected:
            raise SystemExit(f"{label}: compute_due gave {got.isoformat()}, expected {expected}")

        def warm(amount: int = amount, unit: str = unit) -> object:
            return compute_due(START, amount, unit, calendar=shipped)

        def cold(amount: int = amount, unit: str = unit) -> object:
            return compute_due(START, amount, unit, calendar=WorkingCalendar(notices))

        subjects[f"{label}, warm"] = (warm, args.calls)
        subjects[f"{label}, cold"] = (cold, max(args.calls // 4, 1))

    # Interleaved rounds: on a shared machine the load changes from second to second, and a
    # ratio taken within one round (baseline and subject timed moments apart) cancels most of it.
    for fn, _ in subjects.values():
        fn()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    ratios: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(args.repeat):
        this_round = {name: timed(fn, calls) for name, (fn, calls) in subjects.items()}
        for name, seconds in this_round.items():
            samples[name].append(seconds)
            ratios[name].append(seconds / this_round["baseline"])

    print(f"{'':<34} {'median µs':>10} {'× baseline':>11} {'(quartiles)':>15}")
    for name in subjects:
        us = statistics.median(samples[name]) * 1e6
        q1, q2, q3 = statistics.quantiles(ratios[name], n=4)
        label = "baseline: 60 × date+1, set" if name == "baseline" else f"compute_due {name}"
        print(f"{label:<34} {us:10.2f} {q2:10.1f}× {f'({q1:.1f}–{q3:.1f})':>15}")


if __name__ == "__main__":
    main()
