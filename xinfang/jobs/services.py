"""Writes of the background-work app: start a job, run it (claimed once, progress recorded), claim
and run a scheduled job's period, record a worker's heartbeat. Reads are in ``selectors.py``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from xinfang.audit.services import audit_record
from xinfang.cases.errors import Refused
from xinfang.org.models import Membership

from . import registry
from .files import ids_packed, progress_drop, progress_keep, progress_live
from .models import Job, PeriodicRun, WorkerBeat

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between two progress writes (the last one is always written)
PARAMS_MAX = 20_000  # characters of JSON


def job_start(
    *,
    kind: str,
    by: Membership | None,
    params: dict | None = None,
    label: str = "",
    at: datetime | None = None,
) -> Job:
    """Queue job ``kind`` for ``by``: the row the person watches, and the django-tasks task that
    runs it, written in one transaction (a rollback leaves neither)."""
    if kind not in registry.kinds():
        raise Refused(f"没有后台任务“{kind}”；可选：{'、'.join(registry.kinds())}", field="kind")
    params = dict(params or {})
    try:
        encoded = json.dumps(params, ensure_ascii=False)
    except (TypeError, ValueError):
        raise Refused("任务参数须为 JSON。", field="params") from None
    if len(encoded) > PARAMS_MAX:
        raise Refused("任务参数过长。", field="params")
    at = at or timezone.now()
    from .tasks import run_job

    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, label=(label or registry.job_label(kind))[:200], params=params,
            user=by.user if by is not None else None, membership=by, created_at=at,
            updated_at=at,
        )  # fmt: skip
        # What the system queues by itself (PDF copies) yields to what a person is waiting for.
        task = run_job.using(priority=-10) if kind in registry.INTERNAL_KINDS else run_job
        result = task.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
        job.task_id = str(result.id)
        audit_record(
            action="job_start", actor=by, object_type="job", object_id=job.pk,
            detail={"kind": kind, "label": job.label}, at=at,
        )  # fmt: skip
    return job


class Progress:
    """``progress(done, total=None, message="")`` as a job function sees it: writes the job row
    at most every half second (always when done reaches total), from the worker's own
    connection outside any transaction, so the page sees it at once.

    Called inside a transaction (a ledger import writes all its rows in one, to commit whole or
    not at all), a write to the row would be seen only at the commit — and on SQLite no other
    connection can write while the import holds the lock. There the progress goes to the job's
    progress file instead (``files.progress_keep``), which the pages read while the job runs."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        fields = {"done": max(0, int(done)), "updated_at": timezone.now()}
        if total is not None:
            fields["total"] = max(0, int(total))
        if message:
            fields["message"] = str(message)[:300]
        if connections[router.db_for_write(Job)].in_atomic_block:
            progress_keep(self.job_id, fields)
            return
        Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(**fields)


def job_run(*, job_id: int, worker_id: str = "") -> dict:
    """Run a queued job once: the QUEUED → RUNNING update is the claim, so a second delivery
    of the same task (or a second worker) finds nothing to do."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, updated_at=now, worker_id=worker_id[:64]
    )
    if not claimed:
        return {"job": job_id, "skipped": True}
    job = Job.objects.select_related("membership__user", "membership__unit").get(pk=job_id)
    progress = Progress(job.pk)
    try:
        fn = registry.job_function(job.kind)
        out = fn(params=job.params, by=job.membership, progress=progress)
    except Refused as e:
        return _finish(job, Job.Status.FAILED, error=e.message)
    except Exception as e:  # recorded for the person; the traceback goes to the worker's log
        log.exception("job %s (%s) failed", job.pk, job.kind)
        lost_connections_closed()  # the database restarted under it: the failure is written
        return _finish(job, Job.Status.FAILED, error=f"任务出错：{type(e).__name__}: {e}"[:500])
    return _finish(job, Job.Status.DONE, out=out)


def lost_connections_closed() -> None:
    """Close the connections a database error left unusable (the server restarted, the network
    dropped), so the next query opens a new one instead of failing on the dead socket; a
    connection still usable is kept (and with it a test's transaction)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()


def _finish(job: Job, status: str, *, out: registry.Output | None = None, error: str = "") -> dict:
    now = timezone.now()
    fields = {"status": status, "finished_at": now, "updated_at": now, "error": error}
    if out is not None:
        fields.update(
            filename=out.filename[:255], content_type=out.content_type[:120], content=out.data,
            sha256=hashlib.sha256(out.data).hexdigest(), size=len(out.data),
            message=out.message[:300],
            case_ids=None if out.case_ids is None else ids_packed(out.case_ids),
        )  # fmt: skip
    if status == Job.Status.DONE:
        job.refresh_from_db(fields=["total", "done"])
        progress_live(job)  # what it reported inside its transaction
        total = job.total if job.total is not None else max(job.done, 1)
        fields.update(done=max(job.done, total), total=total)
    Job.objects.filter(pk=job.pk).update(**fields)
    progress_drop(job.pk)
    return {"job": job.pk, "status": status, "error": error}


# -- the schedule ----------------------------------------------------------------------------------


def period_of(at: datetime, interval: float) -> int:
    return int(at.timestamp() // interval)


def periodic_claim(
    *, name: str, at: datetime | None = None, worker_id: str = "", period: int | None = None
) -> PeriodicRun | None:
    """Claim run ``period`` of scheduled job ``name`` (by default the wall clock's period) and
    queue it, or None if another worker claimed it first: the INSERT of ``(name, period)`` is
    unique in the database."""
    path, interval = registry.periodic()[name]
    at = at or timezone.now()
    period = period_of(at, interval) if period is None else period
    from .tasks import run_periodic

    try:
        with transaction.atomic():
            run = PeriodicRun.objects.create(
                name=name, period=period, claimed_at=at, worker_id=worker_id[:64], due_at=at,
            )  # fmt: skip
            result = run_periodic.enqueue(run.pk)
            PeriodicRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    except IntegrityError:
        return None
    return run


def periodic_run(*, run_id: int) -> dict:
    # Claimed on its own row: a second delivery of the task (a retry) does not run it again.
    if not PeriodicRun.objects.filter(pk=run_id, started_at__isnull=True).update(
        started_at=timezone.now()
    ):
        return {"run": run_id, "skipped": True}
    run = PeriodicRun.objects.get(pk=run_id)
    path, _interval = registry.periodic().get(run.name, (None, None))
    try:
        if path is None:
            raise LookupError(f"scheduled job {run.name!r} is no longer in XINFANG_PERIODIC")
        result = import_string(path)()
    except Exception as e:
        log.exception("scheduled job %s failed", run.name)
        PeriodicRun.objects.filter(pk=run_id).update(
            finished_at=timezone.now(), error=f"{type(e).__name__}: {e}"[:500]
        )
        raise
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        result = repr(result)
    PeriodicRun.objects.filter(pk=run_id).update(finished_at=timezone.now(), result=result)
    return {"run": run_id, "name": run.name, "result": result}


class Schedule:
    """One worker's view of the schedule, kept on its monotonic clock, so a server clock stepped
    back (or forward) neither stops the runs nor bunches them.

    A scheduled job's runs are numbered one after another (``PeriodicRun.period``: the last run's
    number + 1; unique, so of several workers only one claims each). Every ``interval`` of its
    own clock a worker looks at the job's latest run: if nobody claimed a newer one since its
    last look, a whole interval has passed without a run and it claims the next. On its first
    look it has no earlier one: it claims when there was never a run or the latest was claimed
    an interval ago or more by the wall clock; a latest run claimed "in the future" (the clock
    stepped back since) waits one interval of its own clock. Keyed on wall-clock seconds, a
    clock stepped back an hour found every period of that hour claimed, and nothing ran."""

    def __init__(self, worker_id: str, *, clock=time.monotonic):
        self.worker_id = worker_id
        self.clock = clock
        self.looked: dict[str, tuple[float, int | None]] = {}

    def tick(self, at: datetime | None = None) -> list[str]:
        at = at or timezone.now()
        now = self.clock()
        claimed = []
        for name, (_path, interval) in registry.periodic().items():
            before = self.looked.get(name)
            if before is not None and now - before[0] < interval:
                continue
            latest = (PeriodicRun.objects.filter(name=name).order_by("-period")
                      .values_list("period", "claimed_at").first())
            period = latest[0] if latest else None
            if before is not None:
                due = period == before[1]
            else:
                due = latest is None or (at - latest[1]).total_seconds() >= interval
            if due:
                wanted = period_of(at, interval) if period is None else period + 1
                if periodic_claim(name=name, at=at, worker_id=self.worker_id,
                                  period=wanted) is not None:
                    claimed.append(name)
                period = wanted  # claimed by this worker or, just now, by another
            self.looked[name] = (now, period)
        return claimed


# -- a worker lost mid-job -------------------------------------------------------------------------

INTERRUPTED = ("后台任务进程在执行中途中断（重启、断电或被终止），任务没有完成，也没有留下文件；"
               "请重新发起。")
REAP_EVERY = 15.0  # seconds between two looks at the running jobs


def job_stale_after() -> float:
    """Seconds without a sign of life from a running job's worker before the job is given up
    (``XINFANG_JOB_STALE``): well above the worker's beat (``XINFANG_WORKER_BEAT_EVERY``)."""
    return float(getattr(settings, "XINFANG_JOB_STALE", 120))


class Reaper:
    """Fails the jobs a dead worker left running (SIGKILL, a power cut, a second Ctrl-C), so
    their starters see 失败 with the reason instead of 进行中 for ever, and can start them again
    (a ledger upload's confirmation goes to a job queued or running, ``imports.uploads``).

    A running job's signs of life are its worker's beat (``WorkerBeat.seen_at``, written by the
    worker's beat thread even while a long job runs) and the job's own row (its progress). The
    job is given up when neither has changed for ``job_stale_after()`` seconds *of this
    worker's monotonic clock* — not by comparing their wall-clock times with now, which a clock
    stepped forward would make look old — or at once when its worker recorded that it stopped.
    The failure is written only over the row as it was last seen (``updated_at``): a job that
    reported progress meanwhile is left alone. A job that still finishes after all records its
    outcome over the failure (``_finish``): what happened wins."""

    def __init__(self, worker_id: str, *, started_at: datetime, clock=time.monotonic):
        self.worker_id = worker_id
        self.started_at = started_at
        self.clock = clock
        self.seen: dict[int, tuple[tuple, float]] = {}
        self._last: float | None = None

    def tick(self, *, force: bool = False) -> list[int]:
        now = self.clock()
        if not force and self._last is not None and now - self._last < REAP_EVERY:
            return []
        self._last = now
        running = list(
            Job.objects.filter(status=Job.Status.RUNNING).values_list(
                "pk", "worker_id", "updated_at", "started_at", "task_id"
            )
        )
        workers = WorkerBeat.objects.filter(worker_id__in={r[1] for r in running})
        beats = {
            w: (seen, stopped)
            for w, seen, stopped in workers.values_list("worker_id", "seen_at", "stopped_at")
        }
        stale, seen, lost = job_stale_after(), {}, []
        for pk, worker, updated, started, task_id in running:
            beat = beats.get(worker)
            if worker == self.worker_id:
                # This worker runs one job at a time, and none while it looks: a job under its
                # own id started before it did is a previous life's (a fixed --worker-id).
                dead = started is not None and started < self.started_at
            elif beat is not None and beat[1] is not None:
                dead = True
            else:
                sign = (beat, updated)
                before = self.seen.get(pk)
                since = before[1] if before is not None and before[0] == sign else now
                seen[pk] = (sign, since)
                dead = now - since >= stale
            if dead and job_interrupted(job_id=pk, updated_at=updated, task_id=task_id):
                lost.append(pk)
        self.seen = seen
        return lost


def job_interrupted(*, job_id: int, updated_at: datetime, task_id: str = "") -> bool:
    """Fail running job ``job_id`` whose worker is gone, if its row is still as it was read; its
    django-tasks task row too, left RUNNING by the same death."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    if not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, updated_at=updated_at).update(
        status=Job.Status.FAILED, error=INTERRUPTED, finished_at=now, updated_at=now
    ):
        return False
    progress_drop(job_id)
    log.warning("job %s given up: its worker stopped giving signs of life", job_id)
    if task_id:
        DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
            status="FAILED", finished_at=now, return_value=None,
            exception_class_path="xinfang.jobs.services.WorkerLost",
            traceback="WorkerLost: the worker running this task stopped without finishing it\n",
        )  # fmt: skip
    return True


# -- heartbeat -------------------------------------------------------------------------------------


def worker_beat(*, worker_id: str, started_at: datetime, stopped: bool = False) -> None:
    now = timezone.now()
    defaults = {
        "seen_at": now,
        "hostname": socket.gethostname()[:255],
        "pid": os.getpid(),
        "started_at": started_at,
        "stopped_at": now if stopped else None,
    }
    WorkerBeat.objects.update_or_create(worker_id=worker_id, defaults=defaults)
