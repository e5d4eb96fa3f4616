"""Planner statistics. SQLite keeps none until ANALYZE runs, and without them it may probe every
row of a big table per row of another (issue 9: a 45 s API list that took 119 ms once analysed).
``db_optimize`` runs after every migrate (a post_migrate handler), from ``xinfang db optimize``
(run it after a bulk load or a restore, or daily from cron), and PostgreSQL's autovacuum keeps its
own statistics between runs."""

from __future__ import annotations

from django.db import connections

# SQLite reads about this many rows of each index to estimate it (PRAGMA analysis_limit): the
# estimate is as good for the planner's choices and the run takes milliseconds, not minutes.
SQLITE_ANALYSIS_LIMIT = 2000


def db_optimize(using: str = "default") -> str:
    """Refresh the planner's statistics of database ``using``; returns what ran."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
            return "sqlite: ANALYZE"
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
            return "postgresql: ANALYZE"
    return f"{connection.vendor}: nothing to do"


# A job that wrote this many rows in one run (a first figures refresh or sweep over a province's
# cases) reads the statistics of the tables it wrote again (``analyze_after``).
ANALYZE_FROM = 10_000


def analyze_after(models, written: int, using: str = "default") -> bool:
    """``analyze_tables`` when a job wrote ``ANALYZE_FROM`` rows or more (True), else nothing:
    until then the planner takes a table a first run filled for the empty one it last saw."""
    if written < ANALYZE_FROM:
        return False
    analyze_tables(models, using)
    return True


def analyze_tables(models, using: str = "default") -> None:
    """Refresh the statistics of these models' tables alone, after a job wrote most of their
    rows: the pages read them at once, and autovacuum (where it runs) comes later."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def optimize_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: new indexes and columns get statistics at once (once per migrate: only the
    signal of this app runs it)."""
    db_optimize(using)


def statistics_target(table: str, column: str, target: int):
    """A migration operation setting PostgreSQL's statistics target of ``table.column``
    (reversed: the default); nothing on SQLite, which keeps no per-column histogram. The
    post_migrate ANALYZE reads the column with it at once.

    What it is for: a column an office's lists filter with its subtree's unit ids (a county:
    ~230, one or a few of which hold rows). Past the default's 100 common values each id outside
    the list is estimated at the average of the others, and the planner reads a share of the
    province for a county."""
    from django.db import migrations

    def setting(value: int):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {int(value)}")
        return run

    return migrations.RunPython(setting(target), setting(-1))
