"""``xinfang sweep``: raise due-soon and overdue alerts, warning notices and 60-day analyses.

    xinfang sweep                      # once, now
    xinfang sweep --at 2026-10-09T08:00+08:00
    xinfang sweep --every 300          # the periodic worker (docs/operations-sweep.md)
    xinfang sweep --processes 1        # never split a large pass (XINFANG_SWEEP_PROCESSES)

Each run prints one JSON line: the instant swept and how many of each were newly raised. The sweep
is idempotent, so a run repeated, overlapping or restarted raises nothing twice.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from xinfang.audit.checkpoints import CheckpointError, checkpoint_write
from xinfang.cases.dbstats import db_optimize, index_upkeep
from xinfang.cases.services.supervision import sweep
from xinfang.rules.deadlines import SHANGHAI
from xinfang.rules.store import forget_calendar
from xinfang.security.crypto import KeyFileError

OPTIMIZE_EVERY = 3600  # seconds


class Command(BaseCommand):
    help = "督办扫描：到期提醒、超期提醒、预警提醒单、60日未息访分析；输出 JSON。"
    processes: int | None = None  # --processes; None: the setting

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="按此时刻扫描（ISO 8601 且带时区）；默认为当前时刻")
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="常驻运行，每隔 SECONDS 秒扫描一次",
        )
        parser.add_argument(
            "--processes",
            type=int,
            metavar="N",
            help="变更案件较多时（如导入后的首次扫描）分 N 个进程扫描（仅 PostgreSQL）；"
                 "默认取设置 XINFANG_SWEEP_PROCESSES",
        )
        parser.add_argument(
            "--times",
            type=int,
            metavar="N",
            help="与 --every 同用：扫描 N 次后退出（默认一直运行）",
        )

    def handle(
        self, *args, at: str | None, every: float | None, times: int | None,
        processes: int | None = None, **options
    ) -> None:
        if processes is not None and processes < 1:
            raise CommandError(f"--processes 至少为1，收到 {processes}")
        self.processes = processes
        moment = _at(at) if at else None
        if every is None:
            if times is not None:
                raise CommandError("--times 须与 --every 同用")
            self.run_once(moment)
            return
        if moment is not None:
            raise CommandError("--at 不能与 --every 同用：常驻运行总是按当前时刻扫描")
        if not math.isfinite(every) or every <= 0:  # nan passed "<= 0" and swept in a tight loop
            raise CommandError(f"--every 必须是大于0的秒数，收到 {every:g}")
        if times is not None and times < 1:
            raise CommandError(f"--times 至少为1，收到 {times}")
        self.run_every(every, times)

    def run_once(self, at: datetime | None) -> None:
        at = at or timezone.now()
        result = sweep(at=at, processes=self.processes)
        shown = at.astimezone(SHANGHAI).isoformat(timespec="seconds")
        self.stdout.write(json.dumps({"at": shown, **result.as_dict()}))
        self.stdout.flush()  # under systemd stdout is a pipe; the journal should see it now
        # Each sweep also records the audit trail's and the history's heads outside the
        # database (xinfang/audit/checkpoints.py); a failure here is reported, not fatal.
        try:
            checkpoint_write()
        except (OSError, CheckpointError, KeyFileError) as e:
            self.stderr.write(f"未能写入审计检查点：{e}")

    def run_every(self, every: float, times: int | None) -> None:
        done = 0
        analysed = None  # the worker refreshes the planner's statistics hourly (SQLite has none)
        while times is None or done < times:
            began = time.monotonic()
            # A worker lives for months: drop a connection the database has closed meanwhile, and
            # re-read the calendar, which ``xinfang calendar load`` (another process) may have
            # changed — the cache is per process and only that process forgets it.
            close_old_connections()
            forget_calendar()
            if analysed is None or time.monotonic() - analysed >= OPTIMIZE_EVERY:
                analysed = time.monotonic()
                try:
                    db_optimize()
                except Exception:  # statistics are a help, never a reason to skip the sweep
                    self.stderr.write(traceback.format_exc())
            try:
                self.run_once(None)
            except Exception:
                # One failed sweep (the database restarting, say) must not end the worker; the
                # next run catches up, because the sweep looks at state, not at what it missed.
                self.stderr.write(traceback.format_exc())
                self.stderr.flush()
            # A site that runs this loop instead of ``xinfang worker`` has no other process to
            # keep the search indexes up to date (``dbstats.index_upkeep``): here, each pass.
            try:
                index_upkeep()
            except Exception:  # like the statistics: a help, never a reason to stop the sweep
                self.stderr.write(traceback.format_exc())
            done += 1
            if times is None or done < times:
                time.sleep(max(0.0, every - (time.monotonic() - began)))


def _at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise CommandError(
            f"--at：无法识别的时刻 {text!r}，应写作 ISO 8601，如 2026-10-09T08:00+08:00"
        ) from e
    if moment.utcoffset() is None:
        raise CommandError(f"--at：{text!r} 没有时区，请写明，如 {text.strip()}+08:00")
    return moment
