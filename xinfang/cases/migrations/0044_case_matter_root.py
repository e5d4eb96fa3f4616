"""Each repeat visit keeps its matter's first visit (``Case.matter_root``).

A report, a ledger or a person's page grouped visits by matter by climbing each repeat's
``repeat_of`` chain: a recursive statement per 500 cases, 870 ms of the province's monthly
bulletin at 1M cases (lead31). Registration now keeps the root when it links a repeat; the cases
already on file get theirs here, walked down from every first visit that has a repeat, in one
statement (PostgreSQL and SQLite alike: ``UPDATE … FROM`` over a recursive CTE).

On PostgreSQL the walk is told to use the index on ``repeat_of_id`` at each level: its planner
hashed the whole table once per level instead (75 s of the walk at 1M cases, chains 180 levels
deep; 3.5 s by the index). Writing the roots is the rest: every repeat's row and its indexes
(lead32: 4 min 21 s for 1M cases with 765,000 repeats, see docs/PERFORMANCE.md). SQLite: 0.8 s
at 200,000. The web server is stopped while it runs (docs/operations.md §6): a repeat the old code
registered meanwhile would keep no root.

Reversed on SQLite, the field goes by a copy of the table: ``kept_through_copy`` keeps the
triggers and indexes the copy would lose.
"""

import django.db.models.deletion
from django.db import migrations, models

from xinfang.cases.sqlite_copy import kept_through_copy

# until this migration's transaction ends (SET LOCAL)
PG_BY_INDEX = ("SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off")

BACKFILL = """
WITH RECURSIVE down(id, root) AS (
    SELECT c.id, c.repeat_of_id FROM cases_case c
    JOIN cases_case p ON p.id = c.repeat_of_id
    WHERE p.repeat_of_id IS NULL
    UNION ALL
    SELECT c.id, down.root FROM cases_case c JOIN down ON c.repeat_of_id = down.id
)
UPDATE cases_case SET matter_root_id = down.root FROM down WHERE cases_case.id = down.id
"""


KEEP_FIRST, KEEP_LAST = kept_through_copy("cases_case", "matter_root_id")


def backfill(apps, schema_editor):
    fill_roots(schema_editor.connection)


def fill_roots(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for setting in PG_BY_INDEX:
                cursor.execute(setting)
        cursor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0043_assignment_unit_cases"),
    ]

    operations = [
        KEEP_FIRST,
        migrations.AddField(
            model_name="case",
            name="matter_root",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="cases.case", verbose_name="初次信访件"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        KEEP_LAST,
    ]
