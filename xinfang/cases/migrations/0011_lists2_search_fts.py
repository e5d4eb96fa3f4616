"""SQLite: full-text search over the number, the matter and the demands through FTS5 trigram
indexes (``xinfang.cases.search``), kept in step with their tables by triggers. PostgreSQL has
its trigram GIN indexes (0007) and gets nothing here.

Fallback: an SQLite built without FTS5 (or older than 3.34, without the trigram tokenizer) skips
this migration's tables; search then tests each case in the list's order, as before (slower on a
large office's data, the same results). Rebuild the indexes after editing the tables with the
triggers dropped: ``INSERT INTO cases_case_fts(cases_case_fts) VALUES('rebuild')`` and the same
for ``cases_demand_fts``."""

from django.db import migrations
from django.db.utils import OperationalError

from xinfang.cases.search import SQLITE_FTS_DROP, SQLITE_FTS_SQL


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "CREATE VIRTUAL TABLE temp.xinfang_fts_probe USING fts5(x, tokenize='trigram')"
            )
            cursor.execute("DROP TABLE temp.xinfang_fts_probe")
    except OperationalError:
        return  # no FTS5 or no trigram tokenizer: search keeps the plain scan
    for statement in SQLITE_FTS_SQL:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in SQLITE_FTS_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_lists2_due_sort")]

    operations = [migrations.RunPython(create, drop)]
