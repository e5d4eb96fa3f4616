"""The trail a forced restore replaces, kept: the whole audit trail, the case history and the
checkpoint file's content, written to ``AUDIT_ARCHIVE_DIR`` before anything is cleared, as
gzip JSON lines (a header line, then ``{"audit": row}``, ``{"event": row}`` and
``{"checkpoints": text}``), mode 0600. The restore records the file's name, SHA-256 and counts
in the new trail."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from . import checkpoints
from . import services as audit


def archive_trail(*, reason: str) -> dict:
    """Write the whole audit trail, the case history and the checkpoint file's content to a new
    file in ``AUDIT_ARCHIVE_DIR`` before they are replaced; returns what the restore records."""
    from xinfang.cases.models import CaseEvent

    directory = Path(settings.AUDIT_ARCHIVE_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"trail-before-restore-{stamp}-{uuid.uuid4().hex[:8]}.jsonl.gz"
    chain = audit.audit_verify()
    counts = {"audit": 0, "history": 0}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
        def line(obj: dict) -> None:
            out.write(json.dumps(obj, cls=DjangoJSONEncoder, ensure_ascii=False).encode() + b"\n")

        line({"format": "xinfang-trail-archive", "version": 1, "reason": reason,
              "created_at": datetime.now(UTC).isoformat(), "database": connection.vendor,
              "audit_verify": {"ok": chain.ok, "message": chain.message,
                               "head": chain.head_hash}})
        for row in audit.AuditEntry.objects.order_by("id").values().iterator(chunk_size=2000):
            line({"audit": row})
            counts["audit"] += 1
        for row in CaseEvent.objects.order_by("id").values().iterator(chunk_size=5000):
            line({"event": row})
            counts["history"] += 1
        file = checkpoints.checkpoint_path()
        if file is not None and file.exists():
            line({"checkpoints": file.read_text(encoding="utf-8")})
    return {"file": path.name, "sha256": _sha256(path), "audit_count": counts["audit"],
            "audit_head": chain.head_hash, "history_count": counts["history"]}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
