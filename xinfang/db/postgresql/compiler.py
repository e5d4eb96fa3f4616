"""Django's PostgreSQL compilers, sending a long ``IN`` list as one array parameter.

Under server-side binding a statement carries at most 65,535 parameters (``base``), and
Django writes ``col IN (%s, %s, …)`` with one parameter per value: a ``filter(pk__in=ids)``
or a ``prefetch_related`` over more ids than that fails on the server, whatever batch sizes the
rest of the code keeps. A list longer than ``LONG_LIST`` is written ``col = ANY(%s::type[])``
instead: one parameter, the same rows (PostgreSQL plans an ``IN`` list as ``= ANY`` of an array
in any case). Shorter lists keep Django's shape, and so their plans and prepared statements.
"""

from django.db.backends.postgresql import compiler
from django.db.models.fields.tuple_lookups import TupleIn
from django.db.models.lookups import In

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]

LONG_LIST = 10_000  # longer than any batch the product's own code reads by


class LongListsAsArrays:
    def compile(self, node):
        if (
            isinstance(node, In)
            and not isinstance(node, TupleIn)
            and self.connection.features.max_query_params is not None
            and node.rhs_is_direct_value()
            and len(node.rhs) > LONG_LIST
        ):
            compiled = self._as_array(node)
            if compiled is not None:
                return compiled
        return super().compile(node)

    def _as_array(self, node):
        field = getattr(node.lhs, "output_field", None)
        if field is None or isinstance(node.lhs, tuple):
            return None
        target = field.target_field if field.is_relation else field
        if target.get_internal_type() not in self.connection.data_types:
            return None
        lhs, lhs_params = node.process_lhs(self, self.connection)
        rhs, rhs_params = node.process_rhs(self, self.connection)  # None dropped, values prepared
        if rhs != "(" + ", ".join(["%s"] * len(rhs_params)) + ")":
            return None  # a value that is an expression: leave it to Django
        db_type = field.db_type(self.connection).split("(")[0]
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, list(rhs_params)]


class SQLCompiler(LongListsAsArrays, compiler.SQLCompiler):
    pass


class SQLInsertCompiler(LongListsAsArrays, compiler.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(LongListsAsArrays, compiler.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(LongListsAsArrays, compiler.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(LongListsAsArrays, compiler.SQLAggregateCompiler):
    pass
