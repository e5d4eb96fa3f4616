"""Signed checkpoints of the heads of the audit trail and the case history, kept outside the
database (``settings.AUDIT_CHECKPOINT_FILE``, one JSON object a line, mode 0600).

A MAC chain cannot tell that its newest entries were cut off: what is left still fits. A
checkpoint records, at a moment, how many entries each chain had and its newest entry with that
entry's MAC; ``checkpoint_verify`` then demands that the database still holds at least that many
(counting the audit entries that pruning removed) and that each checkpointed entry is still there
with the same MAC. Each line is signed (HMAC-SM3 under the key file's MAC key) and carries the
previous line's signature, so a line altered or taken out of the middle is noticed too.

The file is written by ``xinfang audit checkpoint`` and at the end of every ``xinfang sweep``;
ship it off the machine as it grows (it is only ever appended to: ``rsync --append``,
``tail -F | logger``, a syslog forwarder) and verify against the shipped copy with
``xinfang audit verify --checkpoints COPY`` — a copy the attacker cannot reach is what makes a
cut-off tail provable. ``restore`` appends a signed *restore* line: the checkpoints before it
describe the replaced database, which is archived (``trail.py``), and are no longer compared.

Starting a checkpoint file is itself recorded in the audit trail (``checkpoint_file_started``), so
a file deleted or emptied later is reported rather than read as "no checkpoints yet". Do not
rotate the file; it grows by one line (~700 bytes) a sweep.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from xinfang.security.crypto import KeyFileError, get_keyring

from . import services
from .models import AuditEntry

VERSION = 1
HEAD = "head"
RESTORE = "restore"


class CheckpointError(Exception):
    """The checkpoint file cannot be written or read."""


@dataclass
class CheckpointResult:
    ok: bool
    checked: int = 0  # lines read
    problems: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def message(self) -> str:
        if self.path is None:
            return "未配置检查点文件（AUDIT_CHECKPOINT_FILE）：无法发现末尾记录被删除。"
        if not self.ok:
            return "；".join(self.problems)
        if not self.checked:
            return f"检查点文件 {self.path} 尚无检查点：运行 `xinfang audit checkpoint`。"
        return f"与检查点文件 {self.path} 中的 {self.checked} 行核对无误。"


def checkpoint_path() -> Path | None:
    configured = getattr(settings, "AUDIT_CHECKPOINT_FILE", None)
    return Path(configured) if configured else None


# -- writing ---------------------------------------------------------------------------------------


def heads() -> dict[str, dict[str, Any]]:
    """Count and newest entry (id and MAC) of both chains, read in one snapshot."""
    from xinfang.cases.models import CaseEvent

    with transaction.atomic():
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        audit_count = AuditEntry.objects.count()
        audit_head = AuditEntry.objects.order_by("-id").values_list("id", "hash").first()
        events = CaseEvent.objects.count()
        event_head = CaseEvent.objects.order_by("-id").values_list("id", "mac").first()
        pruned = services.pruned_total()
    return {
        "audit": {"count": audit_count, "total": audit_count + pruned,
                  "head_id": audit_head[0] if audit_head else None,
                  "head_mac": audit_head[1] if audit_head else ""},
        "history": {"count": events, "head_id": event_head[0] if event_head else None,
                    "head_mac": event_head[1] if event_head else ""},
    }


def checkpoint_write(*, kind: str = HEAD, note: dict | None = None,
                     path: Path | None = None) -> dict | None:
    """Append a signed checkpoint of the current heads; ``None`` when no file is configured."""
    path = path or checkpoint_path()
    if path is None:
        return None
    ring = get_keyring()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two writers never take the same previous line
        if os.fstat(fd).st_size == 0:
            services.audit_record(action=services.CHECKPOINT_FILE_STARTED,
                                  object_type="checkpoints", detail={"file": str(path)})
        line = {"v": VERSION, "kind": kind,
                "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                **heads(), "note": note or {}, "prev": _last_signature(path),
                "mac_key_id": ring.current_mac_key_id}
        _, line["sig"] = ring.mac(_signed_bytes(line), key_id=line["mac_key_id"])
        os.write(fd, (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return line


def _last_signature(path: Path) -> str:
    last = ""
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                last = raw
    if not last:
        return ""
    try:
        return str(json.loads(last)["sig"])
    except (ValueError, KeyError, TypeError):
        return "damaged"  # the next verify reports the damaged line itself


def _signed_bytes(line: dict) -> bytes:
    body = {k: v for k, v in line.items() if k not in {"sig", "mac_key_id"}}
    return ("checkpoint/v1:" + line.get("mac_key_id", "") + ":" + json.dumps(
        body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))).encode("utf-8")


# -- verifying -------------------------------------------------------------------------------------


def checkpoint_verify(path: Path | None = None) -> CheckpointResult:
    """Compare the database with every checkpoint since the last restore line."""
    path = path or checkpoint_path()
    if path is None:
        return CheckpointResult(True)
    result = CheckpointResult(True, path=path)
    if not path.exists() or not path.stat().st_size:
        if _was_started(path):
            result.ok = False
            result.problems.append(f"检查点文件 {path} 曾经启用，现已被删除或清空。请用异地保存的"
                                   "副本核对（--checkpoints）。")
        return result
    ring = get_keyring()
    lines: list[dict] = []
    prev = ""
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            problem = _check_line(raw, prev, ring)
            if problem:
                result.ok = False
                result.problems.append(f"检查点文件第 {number} 行{problem}")
                return result
            line = json.loads(raw)
            prev = line["sig"]
            if line["kind"] == RESTORE:
                lines = []  # what came before describes the database the restore replaced
            lines.append(line)
            result.checked += 1
    _compare(lines, result)
    return result


def _was_started(path: Path) -> bool:
    """Whether the trail says this file was started. (A restore writes its own line to the file,
    so even after one a missing file is a removed file.)"""
    return AuditEntry.objects.filter(action=services.CHECKPOINT_FILE_STARTED,
                                     detail__file=str(path)).exists()


def _check_line(raw: str, prev: str, ring) -> str:
    try:
        line = json.loads(raw)
        sig, key_id = line["sig"], line["mac_key_id"]
        kind = line["kind"]
        line["audit"]["total"], line["history"]["count"]  # noqa: B018 - presence
    except (ValueError, KeyError, TypeError):
        return "无法解析：文件已损坏或被改动。"
    if kind not in {HEAD, RESTORE} or line.get("v") != VERSION:
        return f"格式不符（{kind!r}）。"
    try:
        _, expected = ring.mac(_signed_bytes(line), key_id=key_id)
    except KeyFileError:
        return f"所用的 MAC 密钥 {key_id} 不在密钥文件中，无法校验。"
    if expected != sig:
        return "签名不符：检查点被改动或伪造。"
    if line["prev"] != prev:
        return "与上一行不衔接：检查点文件中有行被删除或调换。"
    return ""


def _compare(lines: list[dict], result: CheckpointResult) -> None:
    from xinfang.cases.models import CaseEvent

    if not lines:
        return
    now = heads()
    newest = lines[-1]
    if now["audit"]["total"] < newest["audit"]["total"]:
        result.problems.append(
            f"审计记录只有 {now['audit']['total']} 条（含已清理的），"
            f"少于 {newest['at']} 检查点时的 {newest['audit']['total']} 条：末尾的记录被删除。")
    if now["history"]["count"] < newest["history"]["count"]:
        result.problems.append(
            f"办理记录只有 {now['history']['count']} 条，少于 {newest['at']} 检查点时的 "
            f"{newest['history']['count']} 条：有办理记录被删除。")
    pruned_through = services.pruned_through_id()
    audit_heads = {ln["audit"]["head_id"]: (ln["audit"]["head_mac"], ln["at"]) for ln in lines
                   if ln["audit"]["head_id"] and ln["audit"]["head_id"] > pruned_through}
    event_heads = {ln["history"]["head_id"]: (ln["history"]["head_mac"], ln["at"]) for ln in lines
                   if ln["history"]["head_id"]}
    for model, column, wanted, label in (
        (AuditEntry, "hash", audit_heads, "审计记录"),
        (CaseEvent, "mac", event_heads, "办理记录"),
    ):
        ids = sorted(wanted)
        for start in range(0, len(ids), 1000):
            batch = ids[start:start + 1000]
            found = dict(model._base_manager.filter(id__in=batch).values_list("id", column))
            for pk in batch:
                mac, at = wanted[pk]
                if found.get(pk) != mac:
                    what = "已不存在" if pk not in found else "的 MAC 已改变"
                    result.problems.append(
                        f"{at} 检查点记录的{label} #{pk} {what}：记录被删除或改写。")
                    break
    result.ok = not result.problems
