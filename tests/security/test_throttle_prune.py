"""Guess counters are housekeeping, not history: the short-window ones are pruned once they can
no longer block anything; a running block and a never-held name's long count are kept."""

from datetime import timedelta

import pytest

from tests.conftest import sh
from xinfang.jobs.periodic import prune
from xinfang.security.models import Throttle
from xinfang.security.throttle import throttle_hit, throttle_prune

pytestmark = pytest.mark.django_db

NOW = sh(2026, 11, 20, 9)
WINDOW, BLOCK = timedelta(minutes=15), timedelta(minutes=15)


def hit(scope, key, at, limit=30):
    return throttle_hit(scope=scope, key=key, limit=limit, window=WINDOW, block=BLOCK, now=at)


def test_stale_short_window_counters_go_and_the_rest_stay():
    hit("signin_ip", "10.0.0.1", NOW - timedelta(days=2))  # long gone
    hit("progress_case", "建安信〔2026〕1号", NOW - timedelta(days=3))  # long gone
    hit("signin_ip", "10.0.0.2", NOW - timedelta(hours=1))  # recent
    hit("signin_name", "nobody", NOW - timedelta(days=30))  # counts over years: kept
    blocked = hit("progress_ip", "10.0.0.3", NOW - timedelta(days=2), limit=1)
    Throttle.objects.filter(key="10.0.0.3").update(blocked_until=NOW + timedelta(hours=1))
    assert blocked.blocked_until is not None

    assert throttle_prune(now=NOW) == 2
    assert set(Throttle.objects.values_list("key", flat=True)) == {
        "10.0.0.2", "nobody", "10.0.0.3"}
    assert throttle_prune(now=NOW) == 0


def test_the_schedule_prunes():
    hit("signin_ip", "10.0.0.1", sh(2020, 1, 1, 9))
    assert prune() == {"throttles": 1, "submitted_forms": 0, "kept_answers": 0, "job_files": 0}
