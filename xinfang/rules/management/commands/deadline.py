"""``xinfang deadline``: when a clock started at an instant runs out, as the engine computes it.

    xinfang deadline --start 2026-09-18T16:00+08:00 --amount 3 --unit working_days [--explain]

prints one JSON object, ``{"due": "2026-09-23T00:00:00+08:00", "provisional": false}``; with
``--explain`` also ``"steps"``, the lines a clerk reads out to defend the date.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from xinfang.rules.deadlines import UNITS, compute_due
from xinfang.rules.store import working_calendar


class Command(BaseCommand):
    help = "按期限规则计算截止时间（与系统计时同一日历，含已载入的年度），输出一个 JSON 对象。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--start",
            required=True,
            help="起算时刻，ISO 8601 且带时区，如 2026-09-18T16:00+08:00",
        )
        parser.add_argument("--amount", required=True, help="时限数量，不小于0的整数")
        parser.add_argument("--unit", required=True, help=f"时限单位：{'、'.join(UNITS)}")
        parser.add_argument(
            "--no-roll",
            action="store_true",
            help="期满日逢节假日、周末不顺延（仅 days、weeks）",
        )
        parser.add_argument("--explain", action="store_true", help="同时输出逐日计算说明 steps")

    def handle(
        self, *args, start: str, amount: str, unit: str, no_roll: bool, explain: bool, **options
    ) -> None:
        began = _start(start)
        count = _amount(amount)
        if unit not in UNITS:
            raise CommandError(f"--unit：未知的时限单位 {unit!r}，应为 {'、'.join(UNITS)} 之一")
        try:
            due = compute_due(began, count, unit, calendar=working_calendar(), roll=not no_roll)
        except ValueError as e:  # e.g. same_day with an amount other than 0 or 1
            raise CommandError(f"--amount：{e}") from e
        result = due.to_json()
        if explain:
            result["steps"] = due.steps
        self.stdout.write(json.dumps(result, ensure_ascii=False))


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise CommandError(
            f"--start：无法识别的时刻 {text!r}，应写作 ISO 8601，如 2026-09-18T16:00+08:00"
        ) from e
    if moment.utcoffset() is None:
        # A bare local time would be read in whatever zone the server runs in; say it instead.
        raise CommandError(f"--start：{text!r} 没有时区，请写明，如 {text.strip()}+08:00")
    return moment


def _amount(text: str) -> int:
    try:
        count = int(text.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise CommandError(f"--amount：时限数量必须是不小于0的整数，收到 {text!r}")
    return count
