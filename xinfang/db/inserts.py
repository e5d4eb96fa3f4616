"""Rows inserted where their unique key is free, in one statement.

``insert_new(NoticeState, rows, unique=("user_id", "notice_id"), returning="notice_id")`` is
``INSERT … ON CONFLICT (…) DO NOTHING RETURNING …`` (PostgreSQL and SQLite alike): it answers
what this statement itself wrote. A row another transaction is inserting under the same key is
waited for, then found taken if that transaction committed. Written instead as a read of the
taken keys before an insert, two requests at once each counted the same row as theirs (the
inbox's mark-read, lead55); as an insert whose ``IntegrityError`` is caught, it needed a
savepoint of its own, two round trips more (1.1 ms of a form token's 2.0 at 1M PostgreSQL).

Values are the columns' plain values (text, numbers, instants, None): nothing else is adapted.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connections, router


def insert_new(model, rows: list[dict], *, unique: tuple[str, ...],
               returning: str | None = None) -> list:
    """Insert each of ``rows`` (dicts of column → value, the same columns each) whose ``unique``
    columns are free; the ``returning`` column (the primary key by default) of those written."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    names = list(rows[0])
    one = f"({', '.join(['%s'] * len(names))})"
    statement = (
        f"INSERT INTO {ops.quote_name(model._meta.db_table)} "
        f"({', '.join(ops.quote_name(n) for n in names)}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({', '.join(ops.quote_name(c) for c in unique)}) DO NOTHING "
        f"RETURNING {ops.quote_name(returning or model._meta.pk.column)}"
    )
    params = [ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v
              for row in rows for v in (row[n] for n in names)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [r[0] for r in cursor.fetchall()]
