"""Functions the schedule (``settings.XINFANG_PERIODIC``) runs: each takes no argument and returns
something JSON-serialisable that the period's run keeps."""

from __future__ import annotations

from django.utils import timezone


def outbox() -> dict:
    """One delivery pass of the notices' outbox (``xinfang notify send``): due messages to each
    unit's channels, with retry and backoff (xinfang.notify.outbox)."""
    from xinfang.notify.outbox import deliver_pending

    return {"sent": deliver_pending(now=timezone.now())}


def sweep() -> dict:
    """The supervision sweep (``xinfang sweep``): due-soon and overdue alerts, warning notices and
    60-day analyses, then the audit checkpoint — as one run of ``xinfang sweep`` does."""
    from xinfang.audit.checkpoints import CheckpointError, checkpoint_write
    from xinfang.cases.services.supervision import sweep as supervision_sweep
    from xinfang.security.crypto import KeyFileError

    result = supervision_sweep(at=timezone.now()).as_dict()
    try:
        checkpoint_write()
    except (OSError, CheckpointError, KeyFileError) as e:
        result["checkpoint_error"] = str(e)[:200]
    return result


def prune() -> dict:
    """Housekeeping: the short-window guess counters that can no longer block anything
    (``security.throttle.throttle_prune``), the forms' spent tokens and the API's kept answers
    past their week (``security.once.form_once_prune``, ``api.replay.kept_answers_prune``), and
    the jobs' files past their keeping (``jobs.files.job_files_expire``)."""
    from xinfang.api.replay import kept_answers_prune
    from xinfang.security.once import form_once_prune
    from xinfang.security.throttle import throttle_prune

    from .files import job_files_expire

    now = timezone.now()
    return {"throttles": throttle_prune(now=now), "submitted_forms": form_once_prune(now=now),
            "kept_answers": kept_answers_prune(now=now), "job_files": job_files_expire(now=now)}


def sqlite_upkeep() -> dict:
    """SQLite only: the search indexes' merges and the WAL checkpoint, here rather than inside a
    clerk's request (``xinfang.cases.dbstats.sqlite_upkeep``; PostgreSQL: nothing)."""
    from xinfang.cases.dbstats import sqlite_upkeep as upkeep

    return upkeep()


def gin_upkeep() -> dict:
    """PostgreSQL only: the search's GIN indexes take in their pending entries here rather than
    inside the clerk's insert that fills the list (``xinfang.cases.dbstats.gin_upkeep``)."""
    from xinfang.cases.dbstats import gin_upkeep as upkeep

    return upkeep()
