"""The worker loop behind ``xinfang worker``: django-tasks' database worker (``django_tasks_db``),
run a batch at a time, with the schedule and the heartbeat between batches.

Each round: record the heartbeat, claim whatever scheduled job's period has come (the database
decides which worker gets it), then run ready tasks — at most ``per_round`` — with the library's
``Worker``, which takes each task row with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers never run one task twice. Sleep ``interval`` seconds when the queue is empty.

While the loop runs, a thread beats for it every ``XINFANG_WORKER_BEAT_EVERY`` seconds, so a
worker busy with a long job still counts as alive (``/healthz``, ``worker --status``, and other
workers' ``Reaper``, which gives up the jobs of a worker that died mid-job)."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from .services import Reaper, Schedule, lost_connections_closed, worker_beat

log = logging.getLogger(__name__)


def keep_connections() -> None:
    """A worker is one long-lived process: keep its database connections between tasks
    (``CONN_MAX_AGE = None``) instead of reconnecting for every one — on SQLite each close
    checkpoints the WAL, ~30 ms here. The product's settings keep them already
    (``settings.base``); this keeps them whatever a site's own settings say. A broken
    connection is still closed and reopened by ``close_old_connections``
    (``close_if_unusable_or_obsolete``)."""
    for conn in connections.all():
        conn.settings_dict["CONN_MAX_AGE"] = None
        conn.close_at = None


RETRY_AFTER = 2.0  # seconds before a round again after a database error


class Loop:
    def __init__(
        self,
        *,
        worker_id: str | None = None,
        queues: list[str] | None = None,
        interval: float = 1.0,
        per_round: int = 20,
        backend: str = "default",
        schedule: bool = True,
    ):
        self.worker_id = worker_id or f"xinfang-{get_random_string(16)}"
        self.queues = queues or ["default"]
        self.interval = interval
        self.per_round = per_round
        self.backend = backend
        self.schedule = Schedule(self.worker_id) if schedule else None
        self.started_at = timezone.now()
        self.reaper = Reaper(self.worker_id, started_at=self.started_at)
        self.tasks_run = 0
        self.rounds = 0
        self.current: Worker | None = None

    def _worker(self) -> Worker:
        return Worker(
            queue_names=self.queues, interval=0, batch=True, backend_name=self.backend,
            startup_delay=False, max_tasks=self.per_round, worker_id=self.worker_id,
            excluded_queue_names=[],
        )  # fmt: skip

    def round(self) -> int:
        """One round; the number of tasks run (0 when the queue was empty)."""
        close_old_connections()
        worker_beat(worker_id=self.worker_id, started_at=self.started_at)
        if self.schedule is not None:
            claimed = self.schedule.tick()
            if claimed:
                log.info("scheduled: %s", ", ".join(claimed))
        self.reaper.tick()
        worker = self.current = self._worker()
        worker.run()
        ran = worker._run_tasks
        self.tasks_run += ran
        self.rounds += 1
        return ran

    def drain(self) -> int:
        """Rounds until the queue is empty (tests, ``xinfang worker --once``)."""
        total = 0
        with self.beating():
            while ran := self.round():
                total += ran
        return total

    @contextmanager
    def beating(self):
        """A thread that records the heartbeat every ``XINFANG_WORKER_BEAT_EVERY`` seconds while
        the body runs — also in the middle of a task, when the loop itself cannot. Its own
        database connection; a failed beat (the database restarting) is logged and tried
        again at the next one."""
        every = float(getattr(settings, "XINFANG_WORKER_BEAT_EVERY", 10))
        stop = threading.Event()

        def beat() -> None:
            try:
                while not stop.wait(every):
                    try:
                        close_old_connections()
                        worker_beat(worker_id=self.worker_id, started_at=self.started_at)
                    except DatabaseError:
                        log.warning("heartbeat not recorded", exc_info=True)
                        connection.close()
            finally:
                connection.close()

        thread = threading.Thread(target=beat, name=f"beat-{self.worker_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=every + 60)

    @property
    def running(self) -> bool:
        return self.current is None or self.current.running

    def forever(self, *, max_rounds: int | None = None) -> None:
        """Until SIGINT/SIGTERM: the library's handler lets a running task finish, then this
        loop ends; a signal while idle ends it at once (SystemExit)."""
        try:
            with self.beating():
                self._rounds(max_rounds)
        finally:
            close_old_connections()
            worker_beat(worker_id=self.worker_id, started_at=self.started_at, stopped=True)

    def _rounds(self, max_rounds: int | None) -> None:
        while True:
            try:
                ran = self.round()
            except DatabaseError:
                # The database restarted or the network dropped mid-round: reconnect and go on.
                # Exiting left the job it held 进行中, and under ``xinfang serve`` took the web
                # server down with it. A job records its own failure (``job_run``); a task
                # whose row could not be written is left to the ``Reaper``.
                log.exception("database error; the worker reconnects")
                lost_connections_closed()
                self.rounds += 1
                ran = self.per_round
                time.sleep(max(self.interval, RETRY_AFTER))
            if not self.running:
                break
            if max_rounds is not None and self.rounds >= max_rounds:
                break
            if ran < self.per_round:
                time.sleep(self.interval)

    def install_signals(self) -> None:
        # One handler for the whole life of the loop: the library's, bound to whichever Worker
        # runs the current batch.
        import signal

        def handler(signum, frame):
            if self.current is None:
                raise SystemExit(0)
            self.current.shutdown(signum, frame)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)
