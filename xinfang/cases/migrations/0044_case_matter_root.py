"""Each repeat visit keeps its matter's first visit (``Case.matter_root``).

A report, a ledger or a person's page grouped visits by matter by climbing each repeat's
``repeat_of`` chain: a recursive statement per 500 cases, 870 ms of the province's monthly
bulletin at 1M cases (lead31). Registration now keeps the root when it links a repeat; the cases
already on file get theirs here, walked down from every first visit that has a repeat, in one
statement (PostgreSQL and SQLite alike: ``UPDATE … FROM`` over a recursive CTE).
"""

import django.db.models.deletion
from django.db import migrations, models

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


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0043_assignment_unit_cases"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="matter_root",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="cases.case", verbose_name="初次信访件"),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop, elidable=False),
    ]
