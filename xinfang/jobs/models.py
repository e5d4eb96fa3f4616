"""What the worker keeps besides django-tasks' own queue (``django_tasks_db.DBTaskResult``):

- ``Job``: one piece of background work a person started (an export, an import, a case file, a
  PDF conversion), with its progress (done of total), its outcome and the file it produced. Only
  the person who started it sees it. The file is kept ``XINFANG_JOB_FILES_KEEP_DAYS``.
- ``PeriodicRun``: one run of a scheduled job, numbered after the one before (``period``).
  ``(name, period)`` is unique, so of several workers that reach the same run only the one
  whose INSERT wins runs it (``services.Schedule``).
- ``WorkerBeat``: each worker's last sign of life, for a health check.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    membership = models.ForeignKey(
        "org.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    content = models.BinaryField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    # When the scheduled run removed the file past its retention (``files.job_files_expire``):
    # the row, its name, size and SHA-256 stay, and the audit entries of its making.
    expired_at = models.DateTimeField(null=True, blank=True)
    # The cases a ledger file holds (``files.ids_packed``): its download checks that each is
    # still in its reader's door. None for a file that holds no cases or one case (its params).
    case_ids = models.BinaryField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="jobs_user_recent")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def percent(self) -> int | None:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def file_gone(self) -> bool:
        """Its file was made and is now past its keeping (``files.expired``)."""
        from .files import expired

        return bool(self.filename) and expired(self)


class PeriodicRun(models.Model):
    name = models.CharField(max_length=60)
    period = models.BigIntegerField(help_text="the run's number: the previous run's + 1")
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField()
    worker_id = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="jobs_periodic_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.period}"


class WorkerBeat(models.Model):
    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.worker_id
