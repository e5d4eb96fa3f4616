"""Reads of the background-work app. A job is seen only by the user who started it: the page, the
poll and the API all come through ``job_for``/``jobs_of``."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .files import cases_out_of_sight, expired, expired_message, ids_unpacked, progress_live
from .models import Job, WorkerBeat

LIST_FIELDS = ("content", "case_ids")  # read only when the file is downloaded or checked


def jobs_of(user) -> QuerySet[Job]:
    return Job.objects.filter(user=user).defer(*LIST_FIELDS).order_by("-created_at", "-pk")


def jobs_recent(user, n: int) -> list[Job]:
    """The ``n`` latest jobs of ``user``, a running one with its progress kept outside the row
    (``files.progress_live``)."""
    return [progress_live(job) for job in jobs_of(user)[:n]]


def file_withheld(job: Job, *, each_case: bool = True) -> str:
    """Why the file a job made is no longer handed to its user ('' if it is): it was read
    through the door of the membership it ran as, and the user's rights have narrowed since —
    that membership ended (a clerk moved to another unit keeps their account), or the user
    declared a recusal after starting it (the file may hold the case or person recused from), or
    a case file's case is out of that membership's door now (its unit named a respondent since).
    A new export reads the door as it stands now. Before all that: a file past its keeping
    (``files.expired``) is gone, whoever asks.

    ``each_case=False`` leaves out a ledger's check of each of its cases (0.5–4 s for 100,000
    rows): the job's page, which a poll asks again and again, shows the link, and the download
    itself, which always checks, refuses with the reason."""
    from xinfang.security.models import Recusal

    if expired(job):
        return expired_message(job)
    if job.membership_id is not None and not job.membership.is_active:
        return "生成该文件的岗位已停用，文件不再提供下载；如仍需要，请以现在的岗位重新导出。"
    if Recusal.objects.filter(user_id=job.user_id, is_active=True,
                              declared_at__gte=job.created_at).exists():
        return "该文件生成后您申报了回避，文件不再提供下载；如仍需要，请重新导出。"
    if job.kind == "archive" and job.membership_id is not None and not _still_seen(job):
        # the case left this membership's door another way: its unit named a respondent since,
        # the case moved out of its jurisdiction
        return "该案件已不在您可以查看的范围内，案卷文件不再提供下载。"
    if each_case and job.membership_id is not None and job.case_ids is not None:
        # a ledger: each of its cases, as the case file's one (a recusal, a reassignment, a
        # respondent named, a confidentiality raised since it was made)
        gone = cases_out_of_sight(job.membership, ids_unpacked(job.case_ids))
        if gone:
            return (f"该台账文件中有 {gone} 件信访件现已不在您可以查看的范围内（回避、改派、"
                    "被反映或密级调整），文件不再提供下载；如仍需要，请重新导出，"
                    "新文件按您现在的权限生成。")
    return ""


def _still_seen(job: Job) -> bool:
    from xinfang.cases.models import Case
    from xinfang.cases.selectors import case_for

    try:
        case_for(job.membership, int(job.params["case_id"]))
    except (KeyError, TypeError, ValueError, Case.DoesNotExist):
        return False
    return True


def job_for(user, pk: int, *, with_file: bool = False) -> Job:
    """The job ``pk`` if ``user`` started it; ``Job.DoesNotExist`` otherwise (an outsider learns
    nothing, not even that it exists)."""
    qs = Job.objects.filter(user=user)
    if not with_file:
        qs = qs.defer(*LIST_FIELDS)
    return progress_live(qs.get(pk=pk))


def workers_alive(*, within: timedelta = timedelta(seconds=60)) -> list[WorkerBeat]:
    """Workers that beat within ``within`` and did not say they stopped (a health check)."""
    since = timezone.now() - within
    return list(
        WorkerBeat.objects.filter(seen_at__gte=since, stopped_at__isnull=True).order_by("worker_id")
    )
