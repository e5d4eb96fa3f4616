"""Django's PostgreSQL backend, told the one limit server-side binding brings.

With ``server_side_binding`` (``settings.base.PREPARED_STATEMENTS``) a statement's parameters
travel apart from its text, and the protocol counts them in 16 bits: a statement may carry at
most 65,535. Django 5.2 assumes no limit on PostgreSQL, so a ``bulk_create`` of 10,000 case
figures (17 columns: 170,000 parameters, ``figures.services``) would fail where the client-side
binding had sent it whole. Here the limit is known: ``bulk_create`` and ``in_bulk`` split their
statements under it, as they do on SQLite. (Django 6.0 does the same upstream, ticket #36822.)
A filter or prefetch over a longer list of values is sent as one array (``compiler``).

And each ``timestamptz`` is read by ``TzLoader``, not by Django's loader alone (see there).
"""

from datetime import datetime
from functools import lru_cache

from django.db.backends.postgresql import base, features, operations
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from django.utils.functional import cached_property
from psycopg import adapt
from psycopg.types.datetime import TimestamptzLoader

SERVER_SIDE_PARAMS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int | None:
        return SERVER_SIDE_PARAMS if self.uses_server_side_binding else None


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "xinfang.db.postgresql.compiler"  # a long IN list as one array

    def bulk_batch_size(self, fields, objs) -> int:
        limit = self.connection.features.max_query_params
        if limit is None or not fields:
            return super().bulk_batch_size(fields, objs)
        return max(limit // len(fields), 1)


class TzLoader(BaseTzLoader):
    """Django's ``timestamptz`` loader with the text PostgreSQL writes in its ISO style read
    by ``datetime.fromisoformat`` (in C) rather than by psycopg's regular expression and
    arithmetic in Python: 1.9 µs a value instead of 6.5 (a case page reads some 185, a
    ledger page some 150; lead45). psycopg_binary's own loader is in C but cannot be
    subclassed, and Django needs its ``timezone``.

    The same value as Django's: the instant moved to the connection's time zone, then given
    Django's (``BaseTzLoader``). What ``fromisoformat`` cannot read — ``infinity``, a date
    BC, another ``DateStyle``, a value past ``datetime.max`` once moved — goes to Django's
    loader, which reads it or raises as it did."""

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        # psycopg's own choice of parser (ISO or not) and the connection's zone, private to its
        # loader (pinned 3.3.9): where a release names them otherwise, Django's loader reads all
        iso = getattr(TimestamptzLoader, "_load_iso", None)
        self._iso = (iso is not None and getattr(self, "_load_method", None) is iso
                     and hasattr(self, "_timezone"))

    def load(self, data):
        if self._iso:
            try:
                value = datetime.fromisoformat(bytes(data).decode("ascii"))
                return value.astimezone(self._timezone).replace(tzinfo=self.timezone)
            except (ValueError, OverflowError, UnicodeDecodeError):
                pass
        return super().load(data)


@lru_cache(maxsize=8)
def _adapters(template: adapt.AdaptersMap, tz) -> adapt.AdaptersMap:
    """Django's adapters (``get_adapters_template``, kept per time zone as Django keeps them)
    with ``TzLoader`` for ``timestamptz`` in ``tz``: Django's cursor registers its own loader
    again only where the zone differs (``create_cursor``)."""
    adapters = adapt.AdaptersMap(template)
    adapters.register_loader("timestamptz", type("TzLoaderIn", (TzLoader,), {
        "timezone": tz, "__module__": __name__}))
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    def get_connection_params(self):
        params = super().get_connection_params()
        if "context" in params:
            params["context"] = _adapters(params["context"], self.timezone)
        return params
