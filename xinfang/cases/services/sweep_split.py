"""A sweep with many changed cases split between worker processes.

The first sweep after a province's cases are imported works some 100,000 open cases and writes
about 700,000 rows. One process spends half of that time in Python and half waiting on the
database; two processes on two cores overlap the one's Python with the other's statements.
Each takes the cases whose id is its number modulo the count (``sweep_part``): disjoint cases,
so neither waits on the other's locks, and each case's clocks, warnings and backlog line are
worked by one process, in the same order as in one.

Only on PostgreSQL (SQLite takes one writer at a time), only outside a transaction (the
workers cannot see what it has not committed), and only when the changed cases are many: a
steady pass, a fraction of a second, is not worth the processes' start. The workers are forked
after the connections are closed, so each opens its own.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import connection, connections

SPLIT_FROM = 5000  # changed cases: below, one process


def split_sweep(*, at: datetime, owed: list[int], processes: int | None):
    """The sweep's result, worked by ``processes`` (default ``XINFANG_SWEEP_PROCESSES``)
    processes; None when it should run in this one."""
    processes = settings.XINFANG_SWEEP_PROCESSES if processes is None else processes
    if (processes <= 1 or len(owed) < SPLIT_FROM or connection.vendor != "postgresql"
            or connection.in_atomic_block):
        return None
    from .supervision import SweepResult

    connections.close_all()
    # An executor, not a pool: a worker that dies (killed for memory, say) fails the sweep with
    # ``BrokenProcessPool`` instead of leaving it waiting for ever; the next run catches up.
    # Forked, its workers all start before its own thread does.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = [pool.submit(_part, at, owed, part, processes) for part in range(processes)]
        return SweepResult.total(part.result() for part in parts)


def _part(at: datetime, owed: list[int], part: int, parts: int):
    from .supervision import sweep_part

    try:
        return sweep_part(at=at, owed=owed, part=part, parts=parts)
    finally:
        connections.close_all()  # this worker's own connection
