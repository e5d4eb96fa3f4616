"""The backlog register's order as an index (``web.views.registers``: open lines first, then the
soonest deadline, lines without one last): a page walks it and stops at fifty where the database
joined and sorted a county's 4,800 lines (29 → 8 ms at 1M cases). The order names where the
empty values go, the same on both databases; SQLite's CREATE INDEX cannot say it ("NULLS
FIRST") and puts them first anyway, which is the open lines' place: its index serves the
jurisdiction and the open lines, the deadlines sorted after."""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "backlog_register_order"
CREATE = {
    "postgresql": f"CREATE INDEX IF NOT EXISTS {NAME} ON registers_backlogcase "
                  "(jurisdiction_id, resolved_at NULLS FIRST, plan_deadline NULLS LAST, id)",
    "sqlite": f"CREATE INDEX IF NOT EXISTS {NAME} ON registers_backlogcase "
              "(jurisdiction_id, resolved_at, plan_deadline, id)",
}


class Migration(migrations.Migration):

    dependencies = [
        ("registers", "0003_sup11_backlog_statistics"),
    ]

    operations = [index_by_database(NAME, CREATE)]
