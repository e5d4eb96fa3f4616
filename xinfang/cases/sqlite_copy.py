"""What SQLite's table copy loses, kept through a migration's reverse.

SQLite takes a foreign-key column away by copying the table (Django's reverse of ``AddField``),
and the copy gets only the indexes Django's model state knows, in Django's form: not the
full-text triggers (0011), not the indexes made in SQL (0021, 0035, 0036), and the wider form
of ``case_jurisdiction_received`` (0038) comes back narrow. Search then silently stops finding
new cases.

``kept_through_copy`` gives two operations to put around such a field: on the way back the last
one remembers the table's indexes and triggers before the copy, and the first one makes again,
after it, each that the copy lost or changed. Nothing happens on the way forward, nor on
PostgreSQL, which drops a column in place.
"""

from __future__ import annotations

from django.db import migrations


def kept_through_copy(table: str, column: str) -> tuple[migrations.RunPython, migrations.RunPython]:
    """(first, last) operations of a migration adding ``column`` to ``table``."""
    kept: list[tuple[str, str]] = []

    def objects(connection) -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = %s "
                           "AND type IN ('index', 'trigger') AND sql IS NOT NULL", [table])
            return dict(cursor.fetchall())

    def remember(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            kept[:] = [(name, sql) for name, sql in objects(schema_editor.connection).items()
                       if column not in sql]

    def restore(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        now = objects(schema_editor.connection)
        with schema_editor.connection.cursor() as cursor:
            for name, sql in kept:
                if now.get(name) == sql:
                    continue
                if name in now:  # made again by the copy, in Django's form
                    kind = "TRIGGER" if sql.upper().startswith("CREATE TRIGGER") else "INDEX"
                    cursor.execute(f'DROP {kind} "{name}"')
                cursor.execute(sql)
        kept.clear()

    first = migrations.RunPython(migrations.RunPython.noop, restore, elidable=False)
    last = migrations.RunPython(migrations.RunPython.noop, remember, elidable=False)
    first.keeps_through_copy = last.keeps_through_copy = table  # read by the tests' guard
    return first, last
