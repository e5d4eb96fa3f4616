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
    return _column_setting(table, column, f"SET STATISTICS {int(target)}", "SET STATISTICS -1")


def rows_per_value(table: str, column: str, rows: int):
    """A migration operation telling PostgreSQL that about ``rows`` rows of ``table`` share each
    value of ``column``, whatever the table's size (``n_distinct`` = -1/``rows``; reversed:
    estimated again); nothing on SQLite, whose ANALYZE counts each index's rows per value. The
    post_migrate ANALYZE reads it at once.

    What it is for: a child table whose rows come many to a parent (a case's history). ANALYZE
    estimates the distinct values from a sample of 30,000 rows, and where each value's rows lie
    together it sees few of them: at 1M cases it counted 128,791 cases among 13M events, and the
    planner expected 101 events of a case where there are 13."""
    return _column_setting(table, column, f"SET (n_distinct = {-1 / rows!r})",
                           "RESET (n_distinct)")


def _column_setting(table: str, column: str, forward: str, backward: str):
    """A migration operation altering ``table.column`` with ``forward`` (reversed:
    ``backward``) on PostgreSQL, and doing nothing elsewhere."""
    from django.db import migrations

    def setting(clause: str):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} {clause}")
        return run

    return migrations.RunPython(setting(forward), setting(backward))


# -- SQLite's upkeep, off the request path --------------------------------------------------------

# Rows of a registration (the matter, the demands) each add a segment to the two FTS5 indexes
# (``cases.search``). FTS5 merges them as it goes ("automerge"), and that work — with SQLite's
# automatic WAL checkpoint every 1,000 pages — fell on a few requests: a registration's median
# 10 ms, p95 19–34 ms, slowest 96–241 ms at 200k (PERFORMANCE.md, lead21). Migration 0028 turns
# automerge off; the worker merges and checkpoints every minute (``XINFANG_PERIODIC``,
# ``sqlite_upkeep``). Without a worker FTS5 still merges a level of 16 segments by itself
# ("crisismerge") and SQLite still checkpoints at 1,000 pages: only the timing moves.
FTS_TABLES = ("cases_case_fts", "cases_demand_fts")
FTS_MERGE_PAGES = 500  # leaf pages a merge command may write
FTS_MERGES_AT_MOST = 20  # commands a table per run: the rest waits for the next minute


def fts_tables(cursor) -> list[str]:
    """The search tables this SQLite database has (none where FTS5 was missing at migrate)."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                   f"({', '.join(['%s'] * len(FTS_TABLES))}) ORDER BY name", list(FTS_TABLES))
    return [name for (name,) in cursor.fetchall()]


def fts_automerge(value: int):
    """A migration operation setting FTS5's ``automerge`` of both search tables to ``value``
    (reversed: FTS5's default, 4); nothing where they do not exist (PostgreSQL, an SQLite
    without FTS5)."""
    from django.db import migrations

    def setting(n: int):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor != "sqlite":
                return
            with schema_editor.connection.cursor() as cursor:
                for table in fts_tables(cursor):
                    cursor.execute(
                        f"INSERT INTO {table}({table}, rank) VALUES ('automerge', %s)", [n])
        return run

    return migrations.RunPython(setting(value), setting(4))


def fts_merge(raw, table: str, at_most: int = FTS_MERGES_AT_MOST) -> int:
    """Run up to ``at_most`` of FTS5's ``'merge'`` commands (``FTS_MERGE_PAGES`` each) on the
    search table ``table`` through ``raw``, an sqlite3 connection; returns how many did work. A
    positive page count merges only a level holding FTS5's ``usermerge`` segments (4) or more,
    so an index this has settled keeps fewer than four on every level."""
    done = 0
    for _ in range(at_most):
        before = raw.total_changes
        raw.execute(f"INSERT INTO {table}({table}, rank) VALUES ('merge', {FTS_MERGE_PAGES})")
        # A command with nothing to merge still writes the index's structure row.
        if raw.total_changes - before <= 1:
            break
        done += 1
    return done


def sqlite_upkeep(using: str = "default") -> dict:
    """Merge the search indexes' segments and checkpoint the WAL (SQLite; nothing elsewhere).
    Returns how many merge commands did work on each table and the checkpoint's
    ``(busy, wal pages, pages checkpointed)``. A checkpoint is PASSIVE: it copies what no
    reader still needs and never waits for a writer."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return {"skipped": connection.vendor}
    with connection.cursor() as cursor:
        merged = {table: fts_merge(connection.connection, table) for table in fts_tables(cursor)}
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        checkpoint = list(cursor.fetchone())
    return {"merged": merged, "checkpoint": checkpoint}


# -- PostgreSQL's search indexes, kept up to date off the request path ---------------------------

# The trigram and bigram GIN indexes of the search (the case's number and matter, a demand's text)
# take a new row's entries into a "pending list" and move them into the index in bulk once the
# list passes ``gin_pending_list_limit`` (4 MB) — inside the insert that passed it: 200–280 ms
# added to that insert at 1M, about one registration in 1,700 over the six indexes
# (PERFORMANCE.md, lead22). VACUUM moves them too, but autovacuum comes to a million-row table
# after some 200,000 inserts. The worker moves them every minute instead (``XINFANG_PERIODIC``,
# ``gin_upkeep``): a minute's entries, a few pages, where ~900 pages took 260–390 ms.
def gin_upkeep(using: str = "default") -> dict:
    """PostgreSQL: move the pending entries of the GIN indexes this role owns in the current
    schema into the indexes (``gin_clean_pending_list``); returns the pages moved, by index.
    Nothing elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return {"skipped": connection.vendor}
    with connection.cursor() as cursor:
        # Only an owner may clean an index: a site whose migrations ran as another role keeps
        # its pending lists for autovacuum rather than failing here every minute.
        cursor.execute(
            "SELECT c.relname, gin_clean_pending_list(c.oid::regclass) "
            "FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
            "WHERE c.relkind = 'i' AND a.amname = 'gin' "
            "AND c.relnamespace = current_schema()::regnamespace "
            "AND pg_has_role(c.relowner, 'USAGE') ORDER BY c.relname")
        return {"moved": dict(cursor.fetchall())}


def index_upkeep(using: str = "default") -> dict:
    """The search indexes' upkeep for whatever database ``using`` is: SQLite's merges and WAL
    checkpoint, PostgreSQL's pending lists. What ``xinfang db upkeep`` and the sweep-only loop
    (``xinfang sweep --every``) run; ``xinfang worker`` runs the one its database needs each
    minute (``XINFANG_PERIODIC``)."""
    if connections[using].vendor == "sqlite":
        return sqlite_upkeep(using)
    return gin_upkeep(using)
