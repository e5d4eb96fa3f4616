"""What lets an append-only row go on SQLite, and nothing else.

SQLite has no session settings for a trigger to read (PostgreSQL's ``audit_prune`` uses a
transaction-local ``set_config``). Instead every connection Django opens gets a SQL function,
``xinfang_maintenance()``, which returns 1 only inside ``maintenance()`` on that thread. The
DELETE triggers on the audit trail and on case history (migrations ``0004_audit_sealed`` and
``0006_history_sealed``) let a row go only then. A client that is not Django — the ``sqlite3``
shell, a script — has no such function, so its DELETE fails outright.

Who enters maintenance: ``audit_prune`` (entries past retention), ``restore --force`` (replacing
everything) and Django's ``flush`` (which on SQLite empties tables with DELETE where PostgreSQL
uses TRUNCATE, which row triggers never see: both databases then behave alike).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()


def _in_maintenance() -> int | None:
    return 1 if getattr(_state, "depth", 0) > 0 else None


@contextmanager
def maintenance() -> Iterator[None]:
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


def register_function(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give each SQLite connection ``xinfang_maintenance()``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("xinfang_maintenance", 0, _in_maintenance)


def install() -> None:
    from django.conf import settings
    from django.db.backends.signals import connection_created

    connection_created.connect(register_function, dispatch_uid="xinfang.audit.dbguard")
    if not any(db.get("ENGINE", "").endswith("sqlite3") for db in settings.DATABASES.values()):
        return
    from django.db.backends.sqlite3.base import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush
    if getattr(flush, "_xinfang_maintenance", False):
        return

    def execute_sql_flush(self, sql_list):
        with maintenance():
            return flush(self, sql_list)

    execute_sql_flush._xinfang_maintenance = True
    DatabaseOperations.execute_sql_flush = execute_sql_flush
