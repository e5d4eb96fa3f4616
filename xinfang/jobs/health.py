"""``GET /healthz``: is this installation working — for the monitor, no sign-in needed.

Three checks, each ``{"ok": …}`` with ages in seconds and counts, nothing else (no host names,
worker ids, case data or error texts — the endpoint is open to anyone who reaches the server):

- ``database``: a ``SELECT 1`` answers;
- ``worker``: at least one ``xinfang worker`` beat within the last minute (jobs.WorkerBeat);
- ``sweep``: the scheduled supervision sweep finished, without error, within twice its interval
  plus two minutes (jobs.PeriodicRun) — or, on a fresh start, a worker has not been up that long
  yet. Skipped when the schedule has no sweep.

200 when all pass, 503 otherwise, JSON either way (``Cache-Control: no-store``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import registry

WORKER_WITHIN = timedelta(seconds=60)
SWEEP_SLACK = timedelta(seconds=120)


def _age(now: datetime, at: datetime | None) -> int | None:
    return None if at is None else max(0, int((now - at).total_seconds()))


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"ok": False}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_worker(now: datetime) -> dict:
    from .models import WorkerBeat

    beats = list(
        WorkerBeat.objects.filter(seen_at__gte=now - WORKER_WITHIN, stopped_at__isnull=True)
        .values_list("seen_at", flat=True)
    )
    return {
        "ok": bool(beats),
        "alive": len(beats),
        "last_beat_s": _age(now, max(beats)) if beats else None,
    }


def check_sweep(now: datetime) -> dict | None:
    from .models import PeriodicRun, WorkerBeat

    schedule = registry.periodic()
    if "sweep" not in schedule:
        return None
    every = schedule["sweep"][1]
    window = timedelta(seconds=2 * every) + SWEEP_SLACK
    # the latest run by its number, not by its time: after the clock stepped back the runs
    # made since carry earlier times than the ones before
    last = (
        PeriodicRun.objects.filter(name="sweep", finished_at__isnull=False)
        .order_by("-period")
        .values("finished_at", "error")
        .first()
    )
    out = {
        "every_s": int(every),
        "last_finished_s": _age(now, last["finished_at"]) if last else None,
        "last_failed": bool(last and last["error"]),
    }
    if last and last["finished_at"] > now + SWEEP_SLACK:
        # The clock is behind the last run (stepped back): its time says nothing of whether the
        # runs go on. Red until a run is made on the clock as it is now (within one interval).
        behind = int((last["finished_at"] - now).total_seconds())
        return {"ok": False, **out, "clock_behind_s": behind}
    if last and not last["error"] and last["finished_at"] >= now - window:
        return {"ok": True, **out}
    if last is None:
        # A fresh installation: fine while the oldest running worker is younger than the window.
        oldest = (
            WorkerBeat.objects.filter(seen_at__gte=now - WORKER_WITHIN, stopped_at__isnull=True)
            .order_by("started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        if oldest is not None and oldest >= now - window:
            return {"ok": True, "pending": True, **out}
    return {"ok": False, **out}


def health_report(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    checks: dict[str, dict] = {"database": check_database()}
    if checks["database"]["ok"]:
        try:
            checks["worker"] = check_worker(now)
            sweep = check_sweep(now)
            if sweep is not None:
                checks["sweep"] = sweep
        except DatabaseError:  # e.g. the tables missing: not migrated
            checks["database"] = {"ok": False, "migrated": False}
    ok = all(c["ok"] for c in checks.values())
    return {"status": "ok" if ok else "fail", "checks": checks}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
