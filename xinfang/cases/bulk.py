"""Many rows into one table at once, for the sweep: what ``bulk_create`` does, without its cost.

A first sweep over a province's open cases writes some 700,000 rows (alerts, their notices,
history entries, ownership items, backlog lines). Through ``bulk_create`` most of that time
was Python's: the compiler prepares every value of every row, and the PostgreSQL driver quotes
each one into the statement's text (Django binds on the client). Here the values are read off
the objects once per field and sent as they are: on PostgreSQL by ``COPY`` (the driver writes
the rows in C), on SQLite by ``executemany``. The rows' ids are not read back: the callers
need none.

``ignore_conflicts``: a row that breaks a unique constraint is skipped, as with
``bulk_create(ignore_conflicts=True)`` — on PostgreSQL the rows are first copied straight in,
in a savepoint; should one conflict, they are copied into a temporary table dropped with the
transaction and inserted from it ``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import lru_cache, partial
from itertools import count

from django.db import IntegrityError, connection, models, transaction
from django.db.models.signals import post_save, pre_save

# Values the drivers take as they are for fields of exactly these classes: the field's
# preparation would only return them unchanged. Anything else — dates on SQLite, JSON, and any
# subclass, such as the encrypted text fields, whose preparation encrypts — is prepared.
_PLAIN_FIELDS = {models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                 models.PositiveIntegerField, models.PositiveSmallIntegerField,
                 models.PositiveBigIntegerField, models.CharField, models.TextField,
                 models.BooleanField, models.ForeignKey, models.OneToOneField}
_PLAIN_VALUES = (type(None), int, str, bool)
FEW = 20  # rows: up to this many go in one INSERT, more by COPY (PostgreSQL) or executemany
_names = count(1)


def _copy(cursor, sql: str, rows: Sequence[Sequence]) -> None:
    """``COPY … FROM STDIN`` of ``rows``, seen by what sees every statement: the connection's
    execute wrappers (statement counters, timers) and, when it logs, its query log."""

    def run(sql, params, many, context):
        # the driver's errors as Django's (a unique violation is an ``IntegrityError``)
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    executor = run
    for wrapper in reversed(connection.execute_wrappers):
        executor = partial(wrapper, executor)
    began = time.monotonic()
    executor(sql, None, False, {"connection": connection, "cursor": cursor})
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - began:.3f}"})


def _preparers(fields: list[models.Field]):
    """For each field, None when its values go as they are, else the field (to prepare them)."""
    out = []
    for field in fields:
        plain = type(field) in _PLAIN_FIELDS and not (
            isinstance(field, models.ForeignKey)
            and type(field.target_field) not in (models.AutoField, models.BigAutoField,
                                                 *_PLAIN_FIELDS))
        out.append(None if plain else field)
    return out


def _once(adapt):
    """``adapt``, each distinct value adapted once."""
    done = {}

    def adapted(value):
        if value not in done:
            done[value] = adapt(value)
        return done[value]
    return adapted


def _prepare(field: models.Field, value):
    return field.get_db_prep_save(value, connection)


def _object_rows(objs: Sequence[models.Model]) -> tuple[list[models.Field], list[list]]:
    """The insertable fields of ``objs``' model (the database writes the id and a generated
    column, ``Case.open_due_at``, itself) and each object's values for them, prepared for the
    database as Django's insert would prepare them."""
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields
              if not isinstance(f, models.AutoField) and not f.generated]
    prepare = _preparers(fields)
    attnames = [f.attname for f in fields]
    rows = []
    for obj in objs:
        row = []
        for field, name, special in zip(fields, attnames, prepare, strict=True):
            if special is None:
                value = getattr(obj, name)
                if value is None and field.is_relation:
                    # a related object saved after this one was built (a follow-up clock)
                    related = field.get_cached_value(obj, None)
                    if related is not None:
                        value = related.pk
                        if value is None:
                            raise ValueError(f"{model.__name__}.{field.name}: an unsaved object")
                        setattr(obj, name, value)  # as ``bulk_create`` sets it
                elif type(value) not in _PLAIN_VALUES:
                    value = field.get_db_prep_save(value, connection)
            else:
                value = special.get_db_prep_save(special.pre_save(obj, add=True), connection)
            row.append(value)
        rows.append(row)
    return fields, rows


def insert_objects(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> int:
    """Insert ``objs`` (unsaved instances of one model, ids left to the database); returns how
    many were sent."""
    if not objs:
        return 0
    fields, rows = _object_rows(objs)
    return insert_rows(type(objs[0]), [f.attname for f in fields], rows,
                       ignore_conflicts=ignore_conflicts, columns=[f.column for f in fields])


@lru_cache(maxsize=256)
def _values_statement(vendor: str, table: str, columns: tuple[str, ...], n: int, *,
                      skip: bool = False, returning: str = "") -> str:
    """``INSERT INTO table (columns) VALUES`` ``n`` rows of marks, kept per text (``vendor``
    keys the quoting): ``skip`` conflicting rows, or return the ``returning`` column."""
    quote = connection.ops.quote_name
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES "
            f"{', '.join([marks] * n)}{' ON CONFLICT DO NOTHING' if skip else ''}"
            f"{f' RETURNING {quote(returning)}' if returning else ''}")


def insert_returning(objs: Iterable[models.Model]) -> list[models.Model]:
    """Insert ``objs`` — a request's few unsaved instances of one model — in one statement and
    give each the id the database chose, as ``bulk_create`` does (and ``save`` for one): the
    instances are then saved ones (``_state``). A generated column is left to be read when it
    is asked for (a deferred field), as Django leaves it after an update.

    Not ``bulk_create``: a registration writes seven tables, and Django's insert compiler
    prepares each value of each row through the field's expression checks (2 ms of a
    registration's 7 ms of CPU at 1M cases, lead43). No signal is sent, as with
    ``bulk_create``, and a model that has a receiver of its save signals is saved row by row
    instead; not for a model whose ``save`` does more (``Petitioner`` keeps its blind indexes
    in ``save``)."""
    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    if (pre_save.receivers or post_save.receivers) and (
            pre_save.has_listeners(model) or post_save.has_listeners(model)):
        for obj in objs:  # a receiver is told of each row, as a save tells it
            obj.save(force_insert=True)
        return objs
    if len(objs) > FEW:  # not a request's few: one text per number of rows is not kept
        return model.objects.bulk_create(objs)
    meta = model._meta
    fields, rows = _object_rows(objs)
    sql = _values_statement(connection.vendor, meta.db_table, tuple(f.column for f in fields),
                            len(rows), returning=meta.pk.column)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        ids = [row[0] for row in cursor.fetchall()]
    generated = [f.attname for f in meta.concrete_fields if f.generated]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        for name in generated:
            obj.__dict__.pop(name, None)
    return objs


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence], *,
                ignore_conflicts: bool = False, columns: Sequence[str] | None = None) -> int:
    """Insert ``rows`` — values as a model instance would hold them, in the order of ``names``
    (attnames) — into ``model``'s table. A column whose field transforms its values (encrypted
    text, JSON, dates on SQLite) has them prepared by its field; the rest go as they are.
    ``columns``: the rows are prepared already (``insert_objects``)."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    if columns is None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[name] for name in names]
        prepared = []
        for i, (field, special) in enumerate(zip(fields, _preparers(fields), strict=True)):
            if type(field) is models.DateTimeField:
                if connection.vendor != "postgresql":  # psycopg writes datetimes itself
                    # a batch's rows mostly share one instant (the sweep's): each adapted once
                    prepared.append((i, _once(connection.ops.adapt_datetimefield_value)))
            elif special is not None:
                # never sent as it is: an encrypted field's plain text would be stored
                prepared.append((i, partial(_prepare, special)))
        if prepared:
            rows = [list(r) for r in rows]
            for row in rows:
                for i, prepare in prepared:
                    row[i] = prepare(row[i])
        columns = [field.column for field in fields]
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if len(rows) <= FEW:  # a request's few notices: one plain statement
            cursor.execute(_values_statement(connection.vendor, model._meta.db_table,
                                             tuple(columns), len(rows), skip=ignore_conflicts),
                           [value for row in rows for value in row])
        elif connection.vendor == "postgresql":
            if ignore_conflicts:
                # Most batches conflict with nothing (a sweep reads what exists under its
                # locks; a concurrent sweep is rare): copied straight into the table, in a
                # savepoint that a conflict rolls back to take the slower way.
                try:
                    with transaction.atomic():
                        _copy(cursor, f"COPY {table} ({cols}) FROM STDIN", rows)
                    return len(rows)
                except IntegrityError:
                    pass
            target = table
            if ignore_conflicts:
                target = f"xf_rows_{next(_names)}"
                cursor.execute(f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS "
                               f"SELECT {cols} FROM {table} WITH NO DATA")
            # the driver formats the rows (in C), nothing is quoted into a statement's text
            _copy(cursor, f"COPY {target} ({cols}) FROM STDIN", rows)
            if ignore_conflicts:
                cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {target} "
                               f"ON CONFLICT DO NOTHING")
                cursor.execute(f"DROP TABLE {target}")
        else:
            marks = ", ".join(["%s"] * len(columns))
            verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
            cursor.executemany(f"{verb} INTO {table} ({cols}) VALUES ({marks})", rows)
    return len(rows)


@lru_cache(maxsize=256)
def _update_statement(vendor: str, table: str, columns: tuple[str, ...],
                      where: tuple[str, ...]) -> str:
    """``UPDATE table SET columns WHERE`` each of ``where`` equals its value, kept per text
    (``vendor`` keys the quoting)."""
    quote = connection.ops.quote_name
    return (f"UPDATE {quote(table)} SET {', '.join(f'{quote(c)} = %s' for c in columns)} "
            f"WHERE {' AND '.join(f'{quote(c)} = %s' for c in where)}")


def update_where(model: type[models.Model], where: dict, values: dict) -> int:
    """``model.objects.filter(**where).update(**values)`` — for a row found by equal columns and
    given plain values — in a statement whose text is kept per set of columns; returns the rows
    it changed. Each value is prepared by its field as Django's update prepares it (a related
    instance by its key). An expression, or a field that writes its own placeholder, goes
    through the ORM.

    Not the ORM's update: every transition writes its case's state and version this way, and
    its compiler took a tenth of a transition's CPU (building the filter and the statement
    again each time, lead45). No signal is sent, as with ``update``."""
    meta = model._meta
    columns, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        if hasattr(value, "resolve_expression") or hasattr(field, "get_placeholder"):
            return model._default_manager.filter(**where).update(**values)
        if hasattr(value, "prepare_database_save"):
            value = value.prepare_database_save(field)
        else:
            value = field.get_db_prep_save(value, connection)
        columns.append(field.column)
        params.append(value)
    keys = []
    for name, value in where.items():
        field = meta.pk if name == "pk" else meta.get_field(name)
        keys.append(field.column)
        params.append(field.get_db_prep_value(value, connection))
    sql = _update_statement(connection.vendor, meta.db_table, tuple(columns), tuple(keys))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
