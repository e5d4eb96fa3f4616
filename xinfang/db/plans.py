"""How PostgreSQL plans what the product sends (decision 0004: statements are prepared)."""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def planned_each_time(alias: str = DEFAULT_DB_ALIAS):
    """Statements run inside are planned for their own parameters, never prepared.

    Under ``auto``, PostgreSQL keeps a prepared statement's generic plan when its estimated cost
    is no higher than the custom plans'. For the ledger search's capped count it was (11,949
    against 12,399) and ran four times longer: a bitmap of the county's 100,247 cases, 64 ms,
    against the custom plan's index scan stopping at the 501st match, 28 ms (1M cases, lead20).
    A generic plan cannot know how rare the search term is. Nothing changes on SQLite or with
    prepared statements off."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not connection.features.uses_server_side_binding:
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    kept, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        yield
    finally:
        raw.prepare_threshold = kept
