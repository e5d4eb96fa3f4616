"""Locks held until the transaction ends, for what has no row to lock: the audit chain's head,
the figures' refresh, a rule profile's code, the top of the unit tree, a held upload's queue.

On PostgreSQL, ``pg_advisory_xact_lock`` under a fixed key: one 64-bit number, or two 32-bit
ones (a key space of its own, its first number naming the use). On SQLite nothing is taken:
the ``IMMEDIATE`` transaction ``atomic()`` begins (settings) already holds the one write lock.
The keys are listed here, one per use, so that no two uses share one by chance.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections

AUDIT_CHAIN = 0x78696E66616E6701  # "xinfang" + 1
FIGURES_REFRESH = 0x78660901
TREE_TOP = 0x78660A01
# Two-key spaces: the second number is the code's checksum, the upload's id.
RULE_CODE = 0x78660001
UPLOAD_QUEUE = 0x78660B01


def held(*key: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Wait for, then hold until commit or rollback, the lock ``key`` (one or two numbers)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT pg_advisory_xact_lock({', '.join(['%s'] * len(key))})", list(key)
            )
