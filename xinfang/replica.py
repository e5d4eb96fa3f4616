"""Reads of read-only pages and exports on a streaming replica.

A province runs PostgreSQL with a streaming replica (docs/PERFORMANCE.md). When
``XINFANG_REPLICA_URL`` is set, ``DATABASES["replica"]`` points at it and ``XINFANG_READ_REPLICA``
names that alias; the views marked ``@replica_reads`` (the ledger, the supervision page, the L0
export) read through it, and everything else — every write, the session, the audit trail, and every
read of a page that writes — stays on ``default``. Without a replica nothing changes.

The marking is per request (a context variable), not per model: the same Case is read from the
primary on the case page a clerk is about to act on, and from the replica in the ledger.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import transaction

_reading_replica: ContextVar[bool] = ContextVar("xinfang_read_replica", default=False)


def replica_alias() -> str | None:
    alias = getattr(settings, "XINFANG_READ_REPLICA", None)
    return alias if alias and alias in settings.DATABASES else None


@contextmanager
def replica_reading():
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def replica_reads(view):
    """Run a read-only view's reads on the replica, when one is configured."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with replica_reading():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Reads inside ``replica_reading()`` go to the replica; all else is left to ``default``. A
    read inside a transaction on ``default`` stays there (it must see its own writes)."""

    def db_for_read(self, model, **hints):
        alias = replica_alias()
        if alias is None or not _reading_replica.get():
            return None
        if transaction.get_connection("default").in_atomic_block:
            return None
        return alias

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of default: rows from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
