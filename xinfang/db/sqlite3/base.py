"""Django's SQLite backend, its LIKE patterns given to SQLite as expressions.

SQLite marks a statement whose LIKE (or GLOB) pattern is a bare parameter, ``LIKE ?``, to be
prepared again whenever that parameter is bound: it might plan a prefix search from the value.
Python's driver binds at every run, so every such statement was parsed and planned anew on
every request — the door's test of a unit's path on every one-case read and on the bell of
every page, the ledger's search. The API detail's read of a case with its rows (a 26 kB
statement, ``db.together``) took 4.4 ms so against 1.8 (200k cases, lead39). Here each
pattern lookup writes ``LIKE (%s || '')``: the same text, an expression SQLite does not plan
from. Nothing is lost: SQLite's LIKE ignores case unless ``case_sensitive_like`` is set, so it
never searched an index by these patterns.
"""

from django.db.backends.sqlite3 import base


def _bound_as_expression(operator: str) -> str:
    return operator.replace("LIKE %s", "LIKE (%s || '')", 1)


class DatabaseWrapper(base.DatabaseWrapper):
    operators = {name: _bound_as_expression(op) for name, op in
                 base.DatabaseWrapper.operators.items()}
