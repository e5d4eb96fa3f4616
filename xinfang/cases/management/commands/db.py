"""``xinfang db optimize``: refresh the planner's statistics (ANALYZE) — after a bulk load, a
restore, or daily from cron on SQLite. ``xinfang db refresh-due``: recompute every case's next
due instant from its clocks (after rows were written without the clock engine)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinfang.cases.dbstats import db_optimize
from xinfang.cases.services.due import cases_refresh_due


class Command(BaseCommand):
    help = "数据库维护：optimize 更新统计信息（ANALYZE）；refresh-due 按时限重算各件最近截止时间。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["optimize", "refresh-due"])
        parser.add_argument("--database", default="default")

    def handle(self, *args, action: str, database: str, **options) -> None:
        if action == "refresh-due":
            n = cases_refresh_due()
            self.stdout.write(f"refresh-due: {n} cases")
            db_optimize(database)
            return
        self.stdout.write(db_optimize(database))
