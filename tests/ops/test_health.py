"""``GET /healthz`` for the monitor: the database, the worker's heartbeat and the sweep's last run;
200 when all pass, 503 otherwise; JSON without sign-in and without anything confidential."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from xinfang.jobs.models import PeriodicRun, WorkerBeat

pytestmark = pytest.mark.django_db
SWEEP_EVERY = 300


def beat(*, ago=5, started_ago=3600, stopped=False, worker_id="w-secret-host-42"):
    now = timezone.now()
    return WorkerBeat.objects.create(
        worker_id=worker_id, hostname="db-host.internal", pid=4242,
        started_at=now - timedelta(seconds=started_ago), seen_at=now - timedelta(seconds=ago),
        stopped_at=now if stopped else None,
    )  # fmt: skip


def sweep_run(*, finished_ago=60, error=""):
    now = timezone.now()
    at = now - timedelta(seconds=finished_ago)
    return PeriodicRun.objects.create(
        name="sweep", period=int(at.timestamp()) // SWEEP_EVERY, due_at=at, claimed_at=at,
        started_at=at, finished_at=at, result={"overdue": 3}, error=error,
    )  # fmt: skip


def get(client):
    r = client.get("/healthz")
    assert r["Content-Type"] == "application/json"
    assert "no-store" in r["Cache-Control"]
    assert "sessionid" not in r.cookies
    return r.status_code, json.loads(r.content)


def test_all_well_is_200_without_sign_in(client):
    beat()
    sweep_run()
    status, body = get(client)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"]
    worker, sweep = body["checks"]["worker"], body["checks"]["sweep"]
    assert worker["ok"] and worker["alive"] == 1 and 5 <= worker["last_beat_s"] < 60  # slow CI
    assert sweep["ok"] and 60 <= sweep["last_finished_s"] < 120


def test_nothing_confidential_in_the_answer(client):
    beat()
    sweep_run(error="KeyFileError: /srv/keys/xinfang-keys.json unreadable")
    _status, body = get(client)
    text = json.dumps(body)
    for secret in ("w-secret-host-42", "db-host.internal", "4242", "keys.json", "overdue"):
        assert secret not in text


def test_no_worker_is_503(client):
    sweep_run()
    status, body = get(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["worker"] == {"ok": False, "alive": 0, "last_beat_s": None}


@pytest.mark.parametrize("kind", ["silent", "stopped"])
def test_a_silent_or_stopped_worker_is_503(client, kind):
    beat(ago=120) if kind == "silent" else beat(stopped=True)
    sweep_run()
    status, body = get(client)
    assert status == 503 and not body["checks"]["worker"]["ok"]


def test_a_stale_sweep_is_503(client):
    beat()
    sweep_run(finished_ago=2 * SWEEP_EVERY + 121)
    status, body = get(client)
    assert status == 503 and not body["checks"]["sweep"]["ok"]
    assert body["checks"]["worker"]["ok"]


def test_a_failed_sweep_is_503(client):
    beat()
    sweep_run(error="OperationalError")
    status, body = get(client)
    assert status == 503 and body["checks"]["sweep"]["last_failed"]


def test_a_fresh_installation_waits_for_its_first_sweep(client):
    beat(started_ago=30)
    status, body = get(client)
    assert status == 200 and body["checks"]["sweep"]["pending"]
    WorkerBeat.objects.all().delete()
    beat(started_ago=3600)  # an hour up and never swept: something is wrong
    status, body = get(client)
    assert status == 503


@override_settings(XINFANG_PERIODIC={})
def test_no_sweep_scheduled_no_sweep_check(client):
    beat()
    status, body = get(client)
    assert status == 200 and "sweep" not in body["checks"]


def test_head_works_and_post_is_refused(client):
    assert client.head("/healthz").status_code in (200, 503)
    assert client.post("/healthz").status_code == 405


def test_query_count_is_small(client, django_assert_max_num_queries):
    beat()
    sweep_run()
    with django_assert_max_num_queries(4):
        client.get("/healthz")
