"""A handling unit's cases read off its assignments' index alone (``assignment_unit_cases``).

A handling unit's door (``probes.handled_by_listed``) names its cases as the case ids of its
assignments by unit and status. The index by (unit, status) found them, but each id was then
read from the table: a township's 13,490 assignments lay on 8,769 pages at 1M cases, 12 ms of
the 25 ms its list's count took on PostgreSQL. With the case id in the index the ids come off
the index itself: the township's ledger 79 → 67 ms and its API list 66 → 53 (1M PostgreSQL);
on SQLite at 200k, 45 → 39 and 32 → 25 (docs/PERFORMANCE.md, lead30).

PostgreSQL carries the case id as a non-key column (INCLUDE); SQLite, which has none, as the
last key column, which serves the same lookups. Either replaces the (unit, status) index, whose
queries it serves. Non-atomic: built ``CONCURRENTLY`` on PostgreSQL (under a second at 1M),
then the old index dropped.
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

NAME = "assignment_unit_cases"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0042_pg_late_clocks_by_name"),
    ]

    operations = [
        index_by_database(NAME, {
            "postgresql": (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON cases_assignment "
                           "(unit_id, status) INCLUDE (case_id)"),
            "sqlite": (f"CREATE INDEX IF NOT EXISTS {NAME} ON cases_assignment "
                       "(unit_id, status, case_id)"),
        }),
        migrations.RemoveIndex(model_name="assignment", name="cases_assig_unit_id_5a0d46_idx"),
    ]
