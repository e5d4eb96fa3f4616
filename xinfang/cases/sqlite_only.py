"""Indexes that only SQLite needs, made by a migration step that does nothing on PostgreSQL."""

from __future__ import annotations

from django.db import migrations


def sqlite_index(name: str, create_sql: str) -> migrations.RunPython:
    """A migration step that runs ``create_sql`` (creating index ``name``) on SQLite, and drops
    the index when the migration is reversed; on any other database it does nothing."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(create_sql)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop)
