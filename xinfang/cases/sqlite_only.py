"""Indexes a migration writes per database: one that only SQLite needs, or one each database
must say its own way (PostgreSQL's NULLS FIRST, which SQLite's CREATE INDEX cannot say)."""

from __future__ import annotations

from django.db import migrations


def index_by_database(name: str, create_sql: dict[str, str]) -> migrations.RunPython:
    """A migration step that runs ``create_sql[vendor]`` (creating index ``name``) on the
    databases it names, and drops the index there when the migration is reversed; on any other
    database it does nothing."""

    def create(apps, schema_editor):
        sql = create_sql.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor in create_sql:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop)


def sqlite_index(name: str, create_sql: str) -> migrations.RunPython:
    """``index_by_database`` on SQLite alone."""
    return index_by_database(name, {"sqlite": create_sql})
