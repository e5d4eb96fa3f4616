"""``xinfang db optimize``: refresh the planner's statistics (ANALYZE) — after a bulk load, a
restore, or daily from cron on SQLite. ``xinfang db refresh-due``: recompute every case's next
due instant from its clocks (after rows were written without the clock engine). ``xinfang db
upkeep``: bring the search indexes up to date now (SQLite: merge their segments and checkpoint
the WAL; PostgreSQL: move the GIN indexes' pending entries) — what the worker does each minute,
for a site running without one or right after an import; prints what it did as JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from xinfang.cases.dbstats import db_optimize, index_upkeep
from xinfang.cases.services.due import cases_refresh_due


class Command(BaseCommand):
    help = ("数据库维护：optimize 更新统计信息（ANALYZE）；refresh-due 按时限重算各件最近截止时间；"
            "upkeep 整理全文检索索引（SQLite 合并分段并检查点，PostgreSQL 并入待处理条目）。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["optimize", "refresh-due", "upkeep"])
        parser.add_argument("--database", default="default")

    def handle(self, *args, action: str, database: str, **options) -> None:
        if action == "upkeep":
            self.stdout.write(json.dumps(index_upkeep(database)))
            return
        if action == "refresh-due":
            n = cases_refresh_due()
            self.stdout.write(f"refresh-due: {n} cases")
            db_optimize(database)
            return
        self.stdout.write(db_optimize(database))
