"""SQLite: the search tables' segments are merged by the worker (``dbstats.sqlite_upkeep``), not
inside the request that wrote them (FTS5's ``automerge`` off; its ``crisismerge`` still merges a
level of 16 segments by itself). PostgreSQL: nothing."""

from django.db import migrations

from xinfang.cases.dbstats import fts_automerge


class Migration(migrations.Migration):
    dependencies = [("cases", "0027_clock_order_by_id")]

    operations = [fts_automerge(0)]
