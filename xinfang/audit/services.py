"""Writing, verifying and pruning the audit trail.

Every entry stores ``prev_hash`` (the MAC of the entry before it, ``"0" * 64`` for the first) and
``hash``, the HMAC-SM3 of a canonical JSON array of its own content, ``prev_hash`` and the id of
the MAC key, under that MAC key of the key file (``mac_key_id``). Altering an entry breaks its own
MAC; removing one breaks the ``prev_hash`` of the next; reordering breaks both. The key is not in
the database, so someone who can write the table (or drop its trigger) cannot recompute a chain
that verifies. ``audit_verify`` walks the chain in id order and names the first entry that does
not fit. Removing the *newest* entries leaves a shorter chain that still fits: the checkpoints
(``checkpoints.py``), kept outside the database, catch that.

Entries written before the trail was sealed (``mac_key_id`` empty) carry a plain SHA-256 and are
accepted only as a prefix: once a sealed entry has been seen, an unsealed one is a forgery.

Appends are serialised so that two writers never chain onto the same predecessor: PostgreSQL takes
a transaction-scoped advisory lock (a ``SELECT … FOR UPDATE`` on the last row is not enough — a
writer that waited for it would still see the row it waited on as "last" and fork the chain);
SQLite's ``IMMEDIATE`` transactions already admit one writer at a time. A unique index on
``prev_hash`` (migration 0003) refuses a fork outright, and the append retries if it meets one.

An entry whose detail holds a long list (an export's case numbers) also stores a ``brief`` of it
for the trail's list (``brief_of``): not under the MAC, since it is derived from the detail, and
``audit_verify`` checks it against the detail, so a rewritten brief is caught as an altered
entry is. An entry without one (any written before lead49) is listed from its detail.

Entries are kept at least ``conf.retention_days()``. ``audit_prune`` removes an older *prefix* of
the chain and appends a checkpoint entry recording the hash the remaining chain starts from.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from xinfang.cases.bulk import insert_returning
from xinfang.db import locks
from xinfang.security.crypto import get_keyring

from . import dbguard
from .conf import retention_days
from .models import AuditEntry

GENESIS = "0" * 64

# -- actions ---------------------------------------------------------------------------------------

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
LOGOUT = "logout"
REVEAL = "reveal"
READ = "read"  # a case page or API detail opened
EXPORT = "export"
DOWNLOAD = "download"
PERMISSION_CHANGE = "permission_change"
PROFILE_CHANGE = "profile_change"
CALENDAR_LOAD = "calendar_load"
KEY_ROTATION = "key_rotation"
BACKUP = "backup"
RESTORE = "restore"
CHECKPOINT = "checkpoint"  # written by audit_prune only
CHECKPOINT_FILE_STARTED = "checkpoint_file_started"  # the first line of a checkpoint file
REGISTER_CHANGE = "register_change"  # a line of the L1–L3 registers written
EVENT_TIME = "event_time"  # an event's real time reported from the paper record (the API)
PRACTICE_CHANGE = "practice_change"  # a practice recorded (xinfang.practices)

ACTIONS = (
    LOGIN, LOGIN_FAILED, LOCKOUT, LOGOUT, REVEAL, READ, EXPORT, DOWNLOAD, PERMISSION_CHANGE,
    PROFILE_CHANGE, CALENDAR_LOAD, KEY_ROTATION, BACKUP, RESTORE, CHECKPOINT,
    CHECKPOINT_FILE_STARTED, REGISTER_CHANGE, EVENT_TIME, PRACTICE_CHANGE,
)

_APPEND_ATTEMPTS = 5
# A list in an entry's detail longer than this is shown by the trail's list as its first this
# many items and its length (``brief_of``, ``AuditEntry.brief``).
LIST_SHOWN = 20
# Entries read at a time by ``audit_verify`` (and between two reports of its progress).
VERIFY_CHUNK = 2000


class RetentionRefused(Exception):
    """A prune that would remove entries younger than the retention period."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    message: str = ""
    head_hash: str = ""  # the newest entry's hash: record it elsewhere to detect a cut-off tail
    head_id: int | None = None
    unsealed: int = 0  # entries from before sealing (plain SHA-256), a prefix


# -- writing ---------------------------------------------------------------------------------------


def audit_record(
    *, action: str, actor: Any = None, object_type: str = "", object_id: Any = "",
    detail: dict | None = None, ip: str = "", at: datetime | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain. ``actor`` is a user or membership (or ``None`` for the system
    and the command line, then ``actor_name`` says who); ``detail`` must be JSON-serialisable."""
    if not action or len(action) > AuditEntry._meta.get_field("action").max_length:
        raise ValueError(f"Audit action must be 1–40 characters, not {action!r}.")
    actor = getattr(actor, "user", actor)  # a membership acts as its user
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("Audit timestamps must be timezone-aware.")
    if actor_name is None:
        actor_name = _display_name(actor) if actor is not None else ""
    fields = {
        "at": at.astimezone(UTC),
        "actor_id": actor.pk if actor is not None else None,
        "actor_name": _clip(actor_name, "actor_name"),
        "action": action,
        "object_type": _clip(object_type, "object_type"),
        "object_id": _clip(object_id, "object_id"),
        # What is hashed is exactly what the database will hand back.
        "detail": _normalise_detail(detail or {}),
        "ip": _clip(ip or "", "ip"),
    }
    return _append(fields, brief=brief_of(fields["detail"]))


def brief_of(detail: dict) -> dict | None:
    """What the trail's list shows of ``detail`` where it holds a list of more than
    ``LIST_SHOWN`` items (an export's case numbers: 100,000 of them are 1.8 MB): ``detail`` with
    each such list cut to its first ``LIST_SHOWN``, and their lengths under ``cut``. None where
    no list is that long: the list reads the detail itself. Fifty exports of the busy county
    read whole took the auditor's list 1.3–1.9 s at 1M cases (lead49)."""
    cut = {key: len(value) for key, value in detail.items()
           if isinstance(value, list) and len(value) > LIST_SHOWN}
    if not cut:
        return None
    return {"detail": {key: value[:LIST_SHOWN] if key in cut else value
                       for key, value in detail.items()}, "cut": cut}


def _append(fields: dict, *, prev_if_empty: str = GENESIS, brief: dict | None = None
            ) -> AuditEntry:
    for attempt in range(_APPEND_ATTEMPTS):
        try:
            with transaction.atomic():
                _lock_chain()
                prev = _chain_head() or prev_if_empty
                key_id, mac = entry_mac(prev_hash=prev, key_id=None, **fields)
                entry = AuditEntry(prev_hash=prev, hash=mac, mac_key_id=key_id, brief=brief,
                                   **fields)
                # One INSERT whose text is kept (each case page and API detail appends a read
                # entry: the ORM's save compiled it each time, lead45).
                insert_returning([entry])
                return entry
        except IntegrityError:
            # Another writer chained onto the same predecessor (a fork the unique index refused).
            if attempt == _APPEND_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _chain_head() -> str | None:
    """The newest entry's hash, by a statement written once (what ``order_by("-id")`` and
    ``first()`` would compile on every append)."""
    with connection.cursor() as cursor:
        cursor.execute(_head_statement(connection.vendor))
        row = cursor.fetchone()
    return row[0] if row else None


@lru_cache(maxsize=4)
def _head_statement(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (f"SELECT {quote('hash')} FROM {quote(AuditEntry._meta.db_table)} "
            f"ORDER BY {quote('id')} DESC LIMIT 1")


def entry_hash(
    *, prev_hash: str, at: datetime, actor_id: int | None, actor_name: str, action: str,
    object_type: str, object_id: str, detail: dict, ip: str,
) -> str:
    """The plain SHA-256 of entries written before sealing — and all an attacker without the MAC
    key can compute."""
    return hashlib.sha256(_canonical(
        [prev_hash, at.astimezone(UTC).isoformat(), actor_id, actor_name, action, object_type,
         object_id, _canonical_numbers(detail), ip])).hexdigest()


def entry_mac(
    *, key_id: str | None, prev_hash: str, at: datetime, actor_id: int | None, actor_name: str,
    action: str, object_type: str, object_id: str, detail: dict, ip: str,
) -> tuple[str, str]:
    """``(mac_key_id, HMAC-SM3)`` of an entry, under the current MAC key unless ``key_id``."""
    ring = get_keyring()
    key_id = key_id or ring.current_mac_key_id
    return ring.mac(_canonical(
        ["audit/v2", key_id, prev_hash, at.astimezone(UTC).isoformat(), actor_id, actor_name,
         action, object_type, object_id, _canonical_numbers(detail), ip]), key_id=key_id)


def _canonical(value: list) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _lock_chain() -> None:
    locks.held(locks.AUDIT_CHAIN)


def _display_name(actor: Any) -> str:
    return getattr(actor, "full_name", "") or getattr(actor, "username", "") or str(actor)


def _clip(value: Any, field: str) -> str:
    return str(value)[: AuditEntry._meta.get_field(field).max_length]


def _normalise_detail(detail: dict) -> dict:
    if not isinstance(detail, dict):
        raise TypeError("Audit detail must be a dict.")
    text = json.dumps(detail, cls=DjangoJSONEncoder, ensure_ascii=False, allow_nan=False)
    # PostgreSQL's jsonb cannot hold U+0000; keep the fact that one was there, visibly.
    text = text.replace("\\u0000", "\\\\u0000")
    return _canonical_numbers(json.loads(text))


def _canonical_numbers(value: Any) -> Any:
    # PostgreSQL's jsonb returns 1e+20 as 100000000000000000000: integral floats hash as ints.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_numbers(v) for v in value]
    return value


# -- verifying -------------------------------------------------------------------------------------


def audit_verify(progress: Callable[[int, int | None], None] | None = None) -> VerifyResult:
    """Walk the chain in id order from the genesis (or the latest prune checkpoint);
    ``progress(checked, total)`` is told every ``VERIFY_CHUNK`` entries (a background job's)."""
    checkpoint = (
        AuditEntry.objects.filter(action=CHECKPOINT).order_by("-id").values("id", "detail").first()
    )
    expected_prev = GENESIS
    if checkpoint is not None:
        expected_prev = str((checkpoint["detail"] or {}).get("anchor_hash") or "")
    checked = unsealed = 0
    last_hash = ""
    last_id = None
    sealed_seen = False
    rows = AuditEntry.objects.order_by("id").values_list(
        "id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail",
        "ip", "prev_hash", "hash", "mac_key_id", "brief",
    )
    total = AuditEntry.objects.count() if progress is not None else None
    for (pk, at, actor_id, actor_name, action, object_type, object_id, detail, ip, prev_hash,
         stored_hash, key_id, brief) in rows.iterator(chunk_size=VERIFY_CHUNK):
        if progress is not None and checked % VERIFY_CHUNK == 0:
            progress(checked, total)
        if prev_hash != expected_prev:
            where = "链首" if checked == 0 else f"第 {pk} 条之前"
            return VerifyResult(
                False, checked, pk,
                f"审计记录 #{pk} 的前序哈希与链上前一条不符：{where}有记录被删除、插入或调换。",
            )
        fields = dict(prev_hash=prev_hash, at=at, actor_id=actor_id, actor_name=actor_name,
                      action=action, object_type=object_type, object_id=object_id,
                      detail=detail, ip=ip)
        if not key_id and (sealed_seen or _after_sealing_began(at)):
            return VerifyResult(
                False, checked, pk,
                f"审计记录 #{pk} 没有 MAC，却排在已有 MAC 的记录之后或写于启用 MAC 之后："
                "是伪造或重算的记录。")
        computed = _recompute(key_id, fields)
        if computed is None:
            return VerifyResult(
                False, checked, pk, f"审计记录 #{pk} 所用的 MAC 密钥 {key_id} 不在密钥文件中，"
                "无法校验：请使用写入它时的密钥文件。")
        if computed != stored_hash:
            return VerifyResult(
                False, checked, pk,
                f"审计记录 #{pk} 的内容与其 MAC 不符：已被改动（或整条链被无密钥者重算）。")
        if brief is not None and (not isinstance(detail, dict) or brief != brief_of(detail)):
            # the list shows the brief: one that says other than the detail misleads it
            return VerifyResult(
                False, checked, pk,
                f"审计记录 #{pk} 的列表摘要与其详情不符：摘要已被改动。")
        sealed_seen = sealed_seen or bool(key_id)
        unsealed += not key_id
        checked += 1
        expected_prev = last_hash = stored_hash
        last_id = pk
    if progress is not None:
        progress(checked, checked)  # the end, always told
    note = f"（其中前 {unsealed} 条为启用 MAC 之前的旧记录，仅有哈希链）" if unsealed else ""
    return VerifyResult(True, checked, None, f"审计链完整，共校验 {checked} 条{note}。",
                        last_hash, last_id, unsealed)


def _after_sealing_began(at: datetime) -> bool:
    began = get_keyring().sealing_began()
    return began is None or at >= began


def _recompute(key_id: str, fields: dict) -> str | None:
    """The recomputed MAC (plain hash if unsealed); ``""`` if the stored content cannot even be
    canonicalised; ``None`` if the MAC key is missing."""
    from xinfang.security.crypto import KeyFileError

    try:
        return entry_mac(key_id=key_id, **fields)[1] if key_id else entry_hash(**fields)
    except KeyFileError:
        return None
    except (TypeError, ValueError):
        return ""


# -- pruning ---------------------------------------------------------------------------------------


def audit_prune(before: datetime, *, now: datetime | None = None, actor_name: str = "") -> int:
    """Remove the entries older than ``before`` (a prefix of the chain) and append a checkpoint.

    Refuses a ``before`` inside the retention period. Returns how many entries were removed.
    """
    now = now or timezone.now()
    days = retention_days()
    limit = now - timedelta(days=days)
    if before > limit:
        raise RetentionRefused(
            f"审计记录至少保存 {days} 天：只能清理 {timezone.localtime(limit):%Y-%m-%d %H:%M} "
            f"之前的记录。"
        )
    with transaction.atomic():
        _lock_chain()
        first_young = (
            AuditEntry.objects.filter(at__gte=before).order_by("id").values_list("id", flat=True)
            .first()
        )
        old = AuditEntry.objects.all()
        if first_young is not None:
            old = old.filter(id__lt=first_young)  # a prefix: never a hole in the chain
        last = old.order_by("-id").values("id", "hash").first()
        if last is None:
            return 0
        removed = old.count()
        earlier = pruned_total()
        _allow_delete_in_this_transaction()
        with dbguard.maintenance():
            AuditEntry.objects.filter(id__lte=last["id"]).delete()
        detail = {"removed_count": removed, "removed_through_id": last["id"],
                  "removed_before": before.astimezone(UTC).isoformat(),
                  "anchor_hash": last["hash"], "removed_total": earlier + removed}
        # If nothing younger is left, the checkpoint itself starts the chain from the anchor.
        _append(
            {"at": timezone.now().astimezone(UTC), "actor_id": None,
             "actor_name": _clip(actor_name, "actor_name"), "action": CHECKPOINT,
             "object_type": "audit", "object_id": "", "detail": detail, "ip": ""},
            prev_if_empty=last["hash"],
        )
    return removed


def pruned_total() -> int:
    """How many entries every prune so far has removed (the newest prune checkpoint says)."""
    detail = (AuditEntry.objects.filter(action=CHECKPOINT).order_by("-id")
              .values_list("detail", flat=True).first()) or {}
    return int(detail.get("removed_total", detail.get("removed_count", 0)))


def pruned_through_id() -> int:
    detail = (AuditEntry.objects.filter(action=CHECKPOINT).order_by("-id")
              .values_list("detail", flat=True).first()) or {}
    return int(detail.get("removed_through_id", 0))


def _allow_delete_in_this_transaction() -> None:
    # The PostgreSQL trigger (migration 0003) lets DELETE through only with this transaction-local
    # setting; UPDATE is refused always. SQLite's DELETE trigger asks ``dbguard.maintenance``.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('xinfang.audit_prune', 'on', true)")
