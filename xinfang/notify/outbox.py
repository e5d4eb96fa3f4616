"""Sending the outbox.

``deliver_pending`` first fans the notices written since the last pass out to their units'
channels (``fan_out``), then claims the rows that are due, sends each, and records the attempt.
A claim is a conditional update (``status='pending'`` → ``'sending'`` with a fresh token) on
rows picked under ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers at once
never send a row twice; a worker that died mid-send leaves its rows ``sending``, and they are
taken over after ``STALE_CLAIM_SECONDS``. A failure puts the row back with an exponential delay
(``BACKOFF_SECONDS · 2^(n-1)``, at most ``BACKOFF_MAX_SECONDS``); after ``MAX_ATTEMPTS`` it is a
dead letter, listed for the security administrator, who may queue it again.

Delivery is at least once: a worker killed after the receiver took a message but before the
attempt was recorded sends it again after the stale delay (the webhook carries
``X-Xinfang-Delivery`` for receivers to drop such a repeat).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .channels import SendError, send
from .messages import message_for
from .models import Attempt, Channel, Delivery, Notice

BATCH = 50
STALE_CLAIM_SECONDS = 600


def max_attempts() -> int:
    return int(getattr(settings, "XINFANG_NOTIFY_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    base = int(getattr(settings, "XINFANG_NOTIFY_BACKOFF_SECONDS", 60))
    cap = int(getattr(settings, "XINFANG_NOTIFY_BACKOFF_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def fan_out(*, limit: int = 500) -> int:
    """Turn notices still flagged for the outbox into one ``Delivery`` per active channel of
    their unit (that takes their kind), and clear the flag; returns the notices handled. Two
    deliverers at once: the rows are locked (skipped by the other on PostgreSQL) and the unique
    (notice, channel) constraint drops a repeat."""
    with transaction.atomic():
        pending = Notice.objects.filter(outbox_pending=True).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        notices = list(pending.values_list("pk", "unit_id", "kind", "created_at")[:limit])
        if not notices:
            return 0
        channels: dict[int, list[tuple[int, list]]] = {}
        for pk, unit_id, kinds in Channel.objects.filter(
            unit_id__in={n[1] for n in notices}, is_active=True
        ).values_list("pk", "unit_id", "kinds"):
            channels.setdefault(unit_id, []).append((pk, kinds or []))
        rows = [
            Delivery(notice_id=notice_id, channel_id=channel_id, next_at=at, created_at=at)
            for notice_id, unit_id, kind, at in notices
            for channel_id, kinds in channels.get(unit_id, [])
            if not kinds or kind in kinds
        ]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        Notice.objects.filter(pk__in=[n[0] for n in notices]).update(outbox_pending=False)
    return len(notices)


def _claim(now: datetime, limit: int) -> list[Delivery]:
    token = secrets.token_hex(16)
    stale = now - timedelta(seconds=STALE_CLAIM_SECONDS)
    claimable = Q(status=Delivery.Status.PENDING, next_at__lte=now) | Q(
        status=Delivery.Status.SENDING, claimed_at__lt=stale
    )
    with transaction.atomic():
        due = Delivery.objects.filter(claimable).order_by("next_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # Conditional: a row another worker claimed in between no longer matches.
        Delivery.objects.filter(claimable, pk__in=ids).update(
            status=Delivery.Status.SENDING, claimed_at=now, claim=token
        )
    return list(
        Delivery.objects.filter(claim=token, status=Delivery.Status.SENDING)
        .select_related("channel", "notice__case", "notice__clock")
        .order_by("next_at", "pk")
    )


def _send_one(row: Delivery, now: datetime) -> bool:
    try:
        detail = send(row.channel, message_for(row.notice, now=now), delivery_id=row.pk)
        ok = True
    except SendError as e:
        detail, ok = str(e), False
    except Exception as e:  # a bug in one format must not stop the others
        detail, ok = f"{type(e).__name__}", False
    attempts = row.attempts + 1
    if ok:
        fields = {"status": Delivery.Status.SENT, "sent_at": now, "last_error": ""}
    elif attempts >= max_attempts():
        fields = {"status": Delivery.Status.DEAD, "last_error": detail[:300]}
    else:
        fields = {"status": Delivery.Status.PENDING, "next_at": now + backoff(attempts),
                  "last_error": detail[:300]}
    with transaction.atomic():
        Attempt.objects.create(delivery=row, at=now, ok=ok, detail=detail[:300])
        Delivery.objects.filter(pk=row.pk, claim=row.claim).update(
            attempts=attempts, claim="", **fields
        )
    return ok


def deliver_pending(*, now: datetime | None = None) -> int:
    """One delivery pass: send every outbox row due at ``now``; returns how many were sent."""
    now = now or timezone.now()
    while fan_out() == 500:
        pass
    sent = 0
    while True:
        rows = _claim(now, BATCH)
        for row in rows:
            sent += _send_one(row, now)
        if len(rows) < BATCH:
            return sent


def requeue(*, delivery: Delivery, now: datetime | None = None) -> bool:
    """A dead letter back in the queue (after the channel was fixed); its attempts stay on
    record, its count starts again."""
    now = now or timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.DEAD).update(
            status=Delivery.Status.PENDING, attempts=0, next_at=now, claim=""
        )
    )
