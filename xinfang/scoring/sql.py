"""One PostgreSQL setting for the scoring aggregates.

A unit score is one grouped query with a ``COUNT(…) FILTER (WHERE EXISTS …)`` per point. Its
estimated cost is high (the planner prices the correlated probes pessimistically), so PostgreSQL
JIT-compiles it — and at 200,000 cases the compilation took 5 s against about 1 s of execution
(PERFORMANCE.md, scores17). ``SET LOCAL jit = off`` in a transaction of its own turns it off for
this query only; other databases are untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def without_jit(alias: str) -> Iterator[None]:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield
