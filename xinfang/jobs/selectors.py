"""Reads of the background-work app. A job is seen only by the user who started it: the page, the
poll and the API all come through ``job_for``/``jobs_of``."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import Job, WorkerBeat

LIST_FIELDS = ("content",)  # the file is read only when it is downloaded


def jobs_of(user) -> QuerySet[Job]:
    return Job.objects.filter(user=user).defer(*LIST_FIELDS).order_by("-created_at", "-pk")


def job_for(user, pk: int, *, with_file: bool = False) -> Job:
    """The job ``pk`` if ``user`` started it; ``Job.DoesNotExist`` otherwise (an outsider learns
    nothing, not even that it exists)."""
    qs = Job.objects.filter(user=user)
    if not with_file:
        qs = qs.defer(*LIST_FIELDS)
    return qs.get(pk=pk)


def workers_alive(*, within: timedelta = timedelta(seconds=60)) -> list[WorkerBeat]:
    """Workers that beat within ``within`` and did not say they stopped (a health check)."""
    since = timezone.now() - within
    return list(
        WorkerBeat.objects.filter(seen_at__gte=since, stopped_at__isnull=True).order_by("worker_id")
    )
