"""Failure counters for things being guessed at, kept in the database (``security.Throttle``).

    blocked = throttle_hit(scope="signin_ip", key=ip, limit=30, window=timedelta(minutes=15),
                           block=timedelta(minutes=15), now=now)

Each hit is counted under a row lock (``SELECT … FOR UPDATE``; SQLite's IMMEDIATE transactions
admit one writer at a time), so parallel requests can neither lose a count nor lift a block. The
count runs in a window that starts at the first failure; when it reaches ``limit`` the key is
blocked for ``block`` and counts afresh afterwards. Hits while blocked are not counted: the block
does not grow by being hammered, and it ends when it said it would.

The database rather than the cache: the file cache shared by the worker processes has no atomic
increment, and a counter that loses updates under load is the one that matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from .models import Throttle

KEY_LENGTH = 200


@dataclass(frozen=True)
class Hit:
    count: int  # failures in the current window after this one (0 once it has just blocked)
    blocked_until: datetime | None  # set when this key is blocked now


def throttle_blocked_until(*, scope: str, key: str, now: datetime) -> datetime | None:
    row = Throttle.objects.filter(scope=scope, key=key[:KEY_LENGTH]).only("blocked_until").first()
    if row is not None and row.blocked_until and row.blocked_until > now:
        return row.blocked_until
    return None


def throttle_hit(
    *,
    scope: str,
    key: str,
    limit: int,
    window: timedelta,
    block: timedelta,
    now: datetime,
    weight: int = 1,
) -> Hit:
    """Count one failure of ``weight`` against ``(scope, key)``."""
    key = key[:KEY_LENGTH]
    with transaction.atomic():
        row, created = Throttle.objects.select_for_update().get_or_create(
            scope=scope, key=key, defaults={"count": 0, "window_start": now}
        )
        if row.blocked_until and row.blocked_until > now:
            return Hit(count=row.count, blocked_until=row.blocked_until)
        rows = Throttle.objects.filter(pk=row.pk)
        if created or row.window_start <= now - window or row.blocked_until:
            # a fresh window: the first failure, the last window long gone, or a block run out
            count = weight
            rows.update(count=count, window_start=now, blocked_until=None)
        else:
            count = row.count + weight
            rows.update(count=F("count") + weight)
        if count >= limit:
            until = now + block
            rows.update(count=0, blocked_until=until)
            return Hit(count=count, blocked_until=until)
        return Hit(count=count, blocked_until=None)


def throttle_count(*, scope: str, key: str, window: timedelta, now: datetime) -> int:
    """Failures in the current window (0 while blocked or when the window has run out)."""
    row = Throttle.objects.filter(scope=scope, key=key[:KEY_LENGTH]).first()
    if row is None or row.blocked_until or row.window_start <= now - window:
        return 0
    return row.count


def throttle_clear(*, scope: str, key: str) -> None:
    Throttle.objects.filter(scope=scope, key=key[:KEY_LENGTH]).update(count=0, blocked_until=None)


# Counters whose window is short (an address signing in, a guess on the public progress page):
# a day after their window began and with no block running they count nothing any more. A name
# nobody holds counts over years (``auth.NAME_WINDOW``) and is kept.
PRUNED_SCOPES = ("signin_ip", "progress_ip", "progress_sess", "progress_case")


def throttle_prune(*, now: datetime, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete the short-window counters that can no longer block anything; returns how many."""
    stale = Throttle.objects.filter(scope__in=PRUNED_SCOPES, window_start__lt=now - older_than)
    stale = stale.exclude(blocked_until__gt=now)
    deleted, _by_model = stale.delete()
    return deleted
