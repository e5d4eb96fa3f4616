"""The files jobs make, after they are made: how long they are kept, and what a person is told
once one is gone.

A job's file (a ledger, a case file, an import's list of skipped rows) is a copy of
petitioners' data outside the cases it came from. It is kept ``XINFANG_JOB_FILES_KEEP_DAYS``
days from the job's end; then the scheduled housekeeping (``periodic.prune``) removes it. The
job's row stays — its name, size and SHA-256, who made it and when — and so do the audit
entries of its making: what left the system is still on record, only the copy is gone."""

from __future__ import annotations

import json
import os
import zlib
from array import array
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from .models import Job

# How to make each kind's file again, said where its file is gone.
AGAIN = {
    "ledger_l0": "请在台账页重新后台导出",
    "ledger_l4": "请在台账页重新后台导出 L4",
    "ledger_register": "请在该台账页重新后台导出",
    "archive": "请在该信访件页面重新生成案卷",
    "audit_verify": "请在审计日志页重新后台校验",
    "ledger_import": "导入本身已完成，不受影响；跳过的行可重新整理后再上传",
    "handover": "移交本身已完成，不受影响；各件的改派记录可在其办理记录中查看",
}


def kept_for() -> timedelta:
    """How long a job's file is kept after the job ends (``XINFANG_JOB_FILES_KEEP_DAYS``)."""
    return timedelta(days=float(getattr(settings, "XINFANG_JOB_FILES_KEEP_DAYS", 7)))


def expired(job: Job, *, now: datetime | None = None) -> bool:
    """Whether ``job``'s file is gone or past its keeping: a download between its time and the
    scheduled run that removes it is refused already (the worker may be down for days)."""
    if job.expired_at is not None:
        return True
    now = now or timezone.now()
    return job.finished_at is not None and job.finished_at <= now - kept_for()


def expired_message(job: Job) -> str:
    days = f"{kept_for().total_seconds() / 86400:g}"
    when = ""
    if job.expired_at is not None:
        when = f"，已于 {timezone.localtime(job.expired_at):%Y-%m-%d %H:%M} 删除"
    again = AGAIN.get(job.kind, "请重新发起该任务")
    return (f"文件“{job.filename}”已超过保留期限（{days} 天）{when}，不再提供下载；"
            f"任务记录仍保留。如仍需要，{again}。")


def job_files_expire(*, now: datetime | None = None) -> int:
    """Remove the files of the jobs that ended more than ``kept_for()`` ago; the number removed.

    One UPDATE empties the file and says when, so a download reads either the whole file or
    the row that says it expired, never a half. On SQLite the connection overwrites what it
    frees (``secure_delete``) for this statement, so the file's pages do not linger in the
    database file's free list until reused."""
    now = now or timezone.now()
    gone = Job.objects.filter(finished_at__lte=now - kept_for(), content__isnull=False,
                              expired_at__isnull=True)
    alias = router.db_for_write(Job)
    conn = connections[alias]
    if conn.vendor != "sqlite":
        return gone.update(content=None, case_ids=None, expired_at=now)
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA secure_delete = ON")
    try:
        with transaction.atomic(using=alias):
            return gone.update(content=None, case_ids=None, expired_at=now)
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"PRAGMA secure_delete = {int(before)}")


# -- the cases a ledger file holds -----------------------------------------------------------------

CHECK_CHUNK = 10_000  # ids a statement: under SQLite's 32,766 bound parameters


def ids_packed(ids) -> bytes:
    """Case ids as the job row keeps them: sorted, each as its distance from the one before,
    compressed — 100,000 ids of a county's ledger in a few hundred kilobytes at most."""
    ordered = sorted(set(int(pk) for pk in ids))
    deltas = array("Q", (b - a for a, b in zip([0, *ordered], ordered, strict=False)))
    return zlib.compress(deltas.tobytes(), 6)


def ids_unpacked(packed) -> list[int]:
    deltas = array("Q")
    deltas.frombytes(zlib.decompress(bytes(packed)))
    ids, at = [], 0
    for d in deltas:
        at += d
        ids.append(at)
    return ids


def cases_out_of_sight(by, ids: list[int]) -> int:
    """How many of the cases ``ids`` are no longer in ``by``'s door (``cases_for``): read a
    chunk at a time, the door's own statement narrowed to the chunk's ids."""
    from xinfang.cases.selectors import cases_for

    if not ids:
        return 0
    door = cases_for(by).order_by()
    seen = 0
    for i in range(0, len(ids), CHECK_CHUNK):
        chunk = ids[i : i + CHECK_CHUNK]
        if chunk[-1] - chunk[0] < 4 * len(chunk):
            # dense (a whole county's ledger): the door's ids in the chunk's range, one read
            # by the key's order, instead of 10,000 bound ids to look up
            inside = set(door.filter(pk__range=(chunk[0], chunk[-1]))
                         .values_list("pk", flat=True))
            seen += sum(pk in inside for pk in chunk)
        else:
            seen += door.filter(pk__in=chunk).count()
    return len(ids) - seen


# -- progress made inside a transaction ------------------------------------------------------------


def _progress_path(job_id: int):
    from pathlib import Path

    return Path(settings.XINFANG_JOB_PROGRESS_DIR) / f"{int(job_id)}.json"


def progress_keep(job_id: int, fields: dict) -> None:
    """Keep a running job's progress in its file (``services.Progress`` inside a transaction):
    written whole and renamed into place, so a reader never meets half a write."""
    path = _progress_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {k: fields[k] for k in ("done", "total", "message") if k in fields}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def progress_drop(job_id: int) -> None:
    """The job ended (its row holds the outcome) or was given up: its progress file goes."""
    _progress_path(job_id).unlink(missing_ok=True)


def progress_live(job: Job) -> Job:
    """``job`` with the progress its file holds while it runs (a long import's one transaction
    has not written it to the row yet); any other job as it is."""
    if job.status != Job.Status.RUNNING:
        return job
    try:
        kept = json.loads(_progress_path(job.pk).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return job
    job.done = max(job.done, int(kept.get("done", 0)))
    if kept.get("total") is not None:
        job.total = int(kept["total"])
    if kept.get("message"):
        job.message = str(kept["message"])
    return job
