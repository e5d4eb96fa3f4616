"""The schedule survives a server clock stepped back or forward (each worker keeps it on its
monotonic clock, the runs numbered one after another), and ``/healthz`` goes red when the
scheduled sweep has not run when due — also when the clock stepped back behind its last run."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from xinfang.jobs.models import PeriodicRun, WorkerBeat
from xinfang.jobs.services import Schedule, period_of

pytestmark = pytest.mark.django_db
EVERY = 300
SWEEP = {"sweep": ("xinfang.jobs.periodic.prune", EVERY)}


class Clock:
    """A monotonic clock the test moves (the wall clock is the ``at`` given to ``tick``)."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ran_hour_before(now) -> None:
    # an hour of runs, claimed as the wall clock's periods before this change keyed them
    for k in range(12, -1, -1):
        at = now - timedelta(seconds=k * EVERY)
        PeriodicRun.objects.create(name="sweep", period=period_of(at, EVERY), due_at=at,
                                   claimed_at=at, started_at=at, finished_at=at)


@override_settings(XINFANG_PERIODIC=SWEEP)
def test_a_clock_stepped_back_an_hour_does_not_stop_the_scheduled_runs():
    # given an hour of runs, then the server's clock stepped back an hour
    now = timezone.now()
    ran_hour_before(now)
    wall, clock = now - timedelta(hours=1), Clock()
    a, b = Schedule("a", clock=clock), Schedule("b", clock=clock)
    # when the workers look: the latest run is "in the future", so they wait one interval
    assert a.tick(wall) == [] and b.tick(wall) == []
    # then each interval of their own clock one of them runs it, as before the step
    runs = []
    for _ in range(3):
        wall += timedelta(seconds=EVERY)
        clock.t += EVERY
        runs += a.tick(wall) + b.tick(wall)
    assert runs == ["sweep"] * 3
    latest = PeriodicRun.objects.order_by("-period")[:3]
    assert [r.claimed_at for r in latest] == [wall - timedelta(seconds=EVERY * k) for k in range(3)]


@override_settings(XINFANG_PERIODIC=SWEEP)
def test_a_clock_stepped_forward_a_day_runs_on_at_its_interval_without_bunching():
    now, clock = timezone.now(), Clock()
    a = Schedule("a", clock=clock)
    assert a.tick(now) == ["sweep"]
    # the clock jumps a day ahead a second later: nothing is owed twice, nor run at once
    clock.t += 1
    assert a.tick(now + timedelta(days=1)) == []
    claimed = []
    for k in range(1, 4):
        clock.t += EVERY
        claimed += a.tick(now + timedelta(days=1, seconds=k * EVERY))
    assert claimed == ["sweep"] * 3
    assert PeriodicRun.objects.count() == 4


def health(client):
    r = client.get("/healthz")
    return r.status_code, json.loads(r.content)["checks"]["sweep"]


@override_settings(XINFANG_PERIODIC=SWEEP)
def test_the_health_check_goes_red_when_the_clock_stepped_back_behind_the_last_run(client):
    # given a worker beating and the last sweep "an hour in the future": the clock stepped
    # back an hour and, keyed on the wall clock, no sweep would run for that hour
    now = timezone.now()
    WorkerBeat.objects.create(worker_id="w", started_at=now - timedelta(days=1), seen_at=now)
    ran_hour_before(now + timedelta(hours=1))
    status, sweep = health(client)
    assert status == 503 and not sweep["ok"] and sweep["clock_behind_s"] >= 3500
    # when a run is made on the clock as it is now (the next number), it is the one judged
    latest = PeriodicRun.objects.order_by("-period").first()
    PeriodicRun.objects.create(name="sweep", period=latest.period + 1, due_at=now,
                               claimed_at=now, started_at=now, finished_at=now)
    status, sweep = health(client)
    assert status == 200 and sweep["ok"] and sweep["last_finished_s"] < 60


@override_settings(XINFANG_PERIODIC=SWEEP)
def test_the_health_check_goes_red_when_the_sweep_has_not_run_when_due(client):
    now = timezone.now()
    WorkerBeat.objects.create(worker_id="w", started_at=now - timedelta(days=1), seen_at=now)
    ran_hour_before(now - timedelta(seconds=2 * EVERY + 121))
    status, sweep = health(client)
    assert status == 503 and not sweep["ok"] and "clock_behind_s" not in sweep
