"""Django's PostgreSQL backend, told the one limit server-side binding brings.

With ``server_side_binding`` (``settings.base.PREPARED_STATEMENTS``) a statement's parameters
travel apart from its text, and the protocol counts them in 16 bits: a statement may carry at
most 65,535. Django 5.2 assumes no limit on PostgreSQL, so a ``bulk_create`` of 10,000 case
figures (17 columns: 170,000 parameters, ``figures.services``) would fail where the client-side
binding had sent it whole. Here the limit is known: ``bulk_create`` and ``in_bulk`` split their
statements under it, as they do on SQLite. (Django 6.0 does the same upstream, ticket #36822.)
A filter or prefetch over a longer list of values is sent as one array (``compiler``).
"""

from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property

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


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
