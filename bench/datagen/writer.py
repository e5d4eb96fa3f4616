"""Bulk loading of generated rows into a migrated database, table by table.

PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3 (``cursor.copy`` / ``write_row``), with
``session_replication_role = replica`` for the load, so the foreign-key triggers Django created
(deferred, one queued event per row) and the case history's append-only trigger stay out of the
way; the generator writes consistent keys itself. SQLite: ``executemany`` in large transactions
with ``foreign_keys``, ``synchronous`` and the journal turned off for the load.

The indexes and constraints are the ones the migrations made; the loader only fills tables (on
PostgreSQL it sets the plain indexes aside for the load and re-creates each from its own
definition afterwards). A
row is given as a tuple of the fields a table spec names; every other concrete field gets the
model's default, so a column another branch adds with a default needs no change here (one
without a default fails loudly, naming the field).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connections, models

FLUSH_ROWS = 50_000


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Table:
    def __init__(self, loader: Loader, model: type[models.Model], fields: Sequence[str]):
        self.loader = loader
        self.model = model
        self.rows: list[tuple] = []
        self.count = 0
        # a generated column (``Case.open_due_at``) is computed by the database, never copied in
        concrete = {f.attname: f for f in model._meta.concrete_fields if not f.generated}
        unknown = [name for name in fields if name not in concrete]
        if unknown:
            raise ValueError(f"{model.__name__}: no field(s) {unknown}")
        self.fields = list(fields)
        defaults = []
        for attname, f in concrete.items():
            if attname in fields:
                continue
            value = f.get_default()
            if value is None and not f.null:
                raise ValueError(
                    f"{model.__name__}.{attname} has no default: the generator must supply it"
                )
            defaults.append((attname, value))
        self.columns = [concrete[n].column for n in self.fields] + [
            concrete[n].column for n, _ in defaults
        ]
        all_fields = [concrete[n] for n in self.fields] + [concrete[n] for n, _ in defaults]
        self.converters = self._converters(all_fields)
        default_values = [v for _, v in defaults]
        for i, fn in self.converters:
            j = i - len(self.fields)
            if j >= 0:
                default_values[j] = fn(default_values[j])
        self.converters = [(i, fn) for i, fn in self.converters if i < len(self.fields)]
        self.defaults = tuple(default_values)

    def _converters(self, fields: list[models.Field]) -> list[tuple[int, Callable]]:
        sqlite = self.loader.vendor == "sqlite"
        out = []
        for i, f in enumerate(fields):
            if isinstance(f, models.JSONField):
                out.append((i, _json))
            elif sqlite and isinstance(f, models.DateTimeField):
                out.append((i, _sqlite_datetime))
            elif sqlite and isinstance(f, models.DateField):
                out.append((i, lambda v: v.isoformat() if isinstance(v, date) else v))
            elif sqlite and isinstance(f, models.BooleanField):
                out.append((i, lambda v: None if v is None else int(v)))
        return out

    def add(self, *values: Any) -> None:
        if self.converters:
            values = list(values)
            for i, fn in self.converters:
                values[i] = fn(values[i])
        self.rows.append(tuple(values) + self.defaults)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.loader.write(self, self.rows)
            self.count += len(self.rows)
            self.rows = []


class Loader:
    def __init__(self, alias: str = "default"):
        self.alias = alias
        self.connection = connections[alias]
        self.connection.ensure_connection()
        self.vendor = self.connection.vendor
        self.raw = self.connection.connection
        self.tables: list[Table] = []
        self.seconds_writing = 0.0
        self.set_aside: list[str] = []
        if self.vendor == "postgresql":
            self.raw.autocommit = True
            self.raw.execute("SET session_replication_role = replica")
            self.raw.execute("SET synchronous_commit = off")
        else:
            self.raw.execute("PRAGMA foreign_keys = OFF")
            self.raw.execute("PRAGMA synchronous = OFF")
            self.raw.execute("PRAGMA cache_size = -200000")
            self._set_sqlite_triggers_aside()

    def table(self, model: type[models.Model], fields: Sequence[str]) -> Table:
        t = Table(self, model, fields)
        self.tables.append(t)
        if self.vendor == "postgresql":
            self._set_indexes_aside(model._meta.db_table)
        else:
            self._set_sqlite_indexes_aside(model._meta.db_table)
        return t

    def _set_sqlite_triggers_aside(self) -> None:
        """SQLite: drop the full-text triggers (``cases_*_fts_*``, migration 0011) for the load —
        each inserted case and demand would otherwise write its trigrams into the FTS5 index one
        row at a time; ``finish`` re-creates them and rebuilds the FTS tables in one pass."""
        rows = self.raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'cases%fts%'").fetchall()
        for name, definition in rows:
            self.raw.execute(f'DROP TRIGGER "{name}"')
            self.set_aside.append(definition)
        self.fts_tables = [name for (name,) in self.raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL "
            "TABLE%fts5%'").fetchall()]

    def _set_sqlite_indexes_aside(self, table: str) -> None:
        """SQLite: the same for the table's plain indexes (not the automatic ones of UNIQUE
        constraints, which have no SQL): built once at the end instead of row by row."""
        rows = self.raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", [table]).fetchall()
        for name, definition in rows:
            self.raw.execute(f'DROP INDEX "{name}"')
            self.set_aside.append(definition)

    def _set_indexes_aside(self, table: str) -> None:
        """Drop the table's plain (non-constraint) indexes for the load; ``finish`` re-creates
        each from its own definition, so the result is exactly what the migrations made, built
        once in bulk instead of maintained row by row."""
        rows = self.raw.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
            "current_schema() AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint "
            "c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
            "quote_ident(i.indexname))::regclass)", [table]).fetchall()
        for name, definition in rows:
            self.raw.execute(f'DROP INDEX "{name}"')
            self.set_aside.append(definition)

    def write(self, table: Table, rows: list[tuple]) -> None:
        began = time.perf_counter()
        name = table.model._meta.db_table
        if self.vendor == "postgresql":
            cols = ", ".join(f'"{c}"' for c in table.columns)
            with self.raw.cursor() as cur:
                with cur.copy(f'COPY "{name}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            cols = ", ".join(f'"{c}"' for c in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            self.raw.execute("BEGIN")
            self.raw.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', rows)
            self.raw.execute("COMMIT")
        self.seconds_writing += time.perf_counter() - began

    def finish(self, *, analyze: bool = True) -> None:
        for t in self.tables:
            t.flush()
        if self.vendor == "postgresql":
            self.raw.execute("SET session_replication_role = DEFAULT")
            self.raw.execute("SET maintenance_work_mem = '256MB'")
            for definition in self.set_aside:
                self.raw.execute(definition)
            models_ = [t.model for t in self.tables]
            for sql in self.connection.ops.sequence_reset_sql(no_style(), models_):
                self.raw.execute(sql)
            if analyze:
                # VACUUM too: a database in use has its visibility map set by autovacuum, and
                # without it every index-only count reads the heap (a capped count of 10,000
                # cases took 38 ms instead of a few) — the benchmark would measure a state no
                # office runs in.
                self.raw.execute("VACUUM (ANALYZE)")
        else:
            from xinfang.cases.dbstats import fts_merge

            for definition in self.set_aside:
                self.raw.execute(definition)
            for name in self.fts_tables:
                self.raw.execute(f"INSERT INTO \"{name}\"(\"{name}\") VALUES ('rebuild')")
                # Merged as a served site's worker keeps it (``sqlite_upkeep``): no level with
                # four segments or more. As the rebuild leaves it (11–14 segments of 190–255
                # pages on level 0) the first registrations of a run paid FTS5's crisis merge
                # of 2,000–3,500 pages, 130–390 ms, which no served office pays.
                while fts_merge(self.raw, name):
                    pass
            self.raw.execute("PRAGMA foreign_keys = ON")
            self.raw.execute("PRAGMA synchronous = NORMAL")
            if analyze:
                self.raw.execute("ANALYZE")
