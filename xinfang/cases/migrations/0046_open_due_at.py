"""``Case.open_due_at``: the soonest running deadline of an open case, kept by the database.

The overdue lists asked for an open state and a deadline past as two tests; PostgreSQL took them
for independent, expected a twentieth of the busy county's overdue cases (258 of 5,179), and
chose a plan that read the province's (docs/PERFORMANCE.md, lead38). One column holding the deadline only while the case
is open is estimated from its own statistics and indexed with the office's jurisdiction.

PostgreSQL stores the column (it has no other kind before version 18): adding it rewrites
``cases_case`` under an exclusive lock and is vacuumed after: 1 min 56 s at a million cases on a
2-core machine (docs/operations.md §6). SQLite cannot add a stored column to a table, only a virtual one, computed
on reading; its index holds the value. Either way the database computes it from ``state`` and
``next_due_at``, so no write path can leave it behind. The states are those open at this
migration (``choices.OPEN_STATES``), written here so that a later change to the set is a migration.
"""

from django.db import migrations, models, transaction

OPEN_STATES = ["assigned", "awaiting_countersign", "delivered", "extension_requested",
               "in_progress", "letter_approved", "letter_drafted", "letter_issued", "proposed",
               "registered", "signed_off"]
EXPRESSION = "CASE WHEN state IN ({}) THEN next_due_at ELSE NULL END".format(
    ", ".join(f"'{s}'" for s in OPEN_STATES))
# On PostgreSQL the migration commits the column before it vacuums: a vacuum cut short leaves
# the column and its index in and the migration unrecorded, and running it again goes on from
# there (``IF NOT EXISTS``). SQLite adds both in one transaction and vacuums nothing.
COLUMN_SQL = {
    "postgresql": "ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS open_due_at timestamp with "
                  "time zone GENERATED ALWAYS AS ({}) STORED",
    "sqlite": "ALTER TABLE cases_case ADD COLUMN open_due_at datetime "
              "GENERATED ALWAYS AS ({}) VIRTUAL",
}


# Its id included on PostgreSQL, so that a count reads the index alone (SQLite's index rows hold
# the id as their rowid): the busy township's overdue count, its 13,573 cases named, 17 → 6.5 ms
# at 1M, a county's 1.5 → 1.1 (lead38).
INDEX_SQL = {
    "postgresql": "CREATE INDEX IF NOT EXISTS case_open_due_idx ON cases_case "
                  "(jurisdiction_id, open_due_at) INCLUDE (id) WHERE open_due_at IS NOT NULL",
    "sqlite": "CREATE INDEX case_open_due_idx ON cases_case (jurisdiction_id, open_due_at) "
              "WHERE open_due_at IS NOT NULL",
}


def add_column(apps, schema_editor):
    """The column and its index in one transaction; then, on PostgreSQL, the rewritten table
    vacuumed: a rewrite leaves its visibility map empty, and until a vacuum marks its pages again
    every count PostgreSQL read from an index alone visits the table (the county ledger's floor
    count 3 → 147 ms at 1M; lead38). Autovacuum does not come: a rewrite is no insert or update."""
    connection = schema_editor.connection
    if connection.vendor not in COLUMN_SQL:
        raise RuntimeError(f"0046: no generated column written for {connection.vendor}")
    add = COLUMN_SQL[connection.vendor].format(EXPRESSION)
    # through the schema editor, which ``sqlmigrate`` collects instead of running
    with transaction.atomic(using=connection.alias):
        schema_editor.execute(add)
        schema_editor.execute(INDEX_SQL[connection.vendor])
    if connection.vendor == "postgresql":
        schema_editor.execute("VACUUM ANALYZE cases_case")


def drop_column(apps, schema_editor):
    connection = schema_editor.connection
    with transaction.atomic(using=connection.alias):
        schema_editor.execute("DROP INDEX case_open_due_idx")
        schema_editor.execute("ALTER TABLE cases_case DROP COLUMN open_due_at")


class Migration(migrations.Migration):
    atomic = False  # VACUUM runs outside a transaction; the column and its index share one

    dependencies = [("cases", "0045_matter_root_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_column, drop_column)],
            state_operations=[
                migrations.AddField(
                    model_name="case",
                    name="open_due_at",
                    field=models.GeneratedField(
                        db_persist=True,
                        expression=models.Case(models.When(state__in=OPEN_STATES,
                                                           then=models.F("next_due_at"))),
                        null=True,
                        output_field=models.DateTimeField(null=True),
                        verbose_name="在办最近截止时间",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(condition=models.Q(("open_due_at__isnull", False)),
                                       fields=["jurisdiction", "open_due_at"], include=["id"],
                                       name="case_open_due_idx"),
                ),
            ],
        ),
    ]
