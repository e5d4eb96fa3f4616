"""Clocks, the alerts they raise, and warning notices (预警提醒单)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .case import Case


class Clock(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("计时中")
        PAUSED = "paused", _("暂停")
        STOPPED = "stopped", _("已停止")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="clocks")
    name = models.CharField(_("时限"), max_length=60)
    # "deadline" runs late; "window" (e.g. the 30 days to ask for a review) simply closes.
    kind = models.CharField(max_length=10, default="deadline")
    label = models.CharField(_("名称"), max_length=100)
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=20)
    roll = models.BooleanField(default=True)
    started_at = models.DateTimeField(_("起算时间"))
    due_at = models.DateTimeField(_("截止时间"), db_index=True)
    provisional = models.BooleanField(_("暂定"), default=False)
    explanation = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Time given back after pauses; a recomputation adds it again.
    paused_seconds = models.PositiveIntegerField(default=0)
    stopped_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    met = models.BooleanField(_("按时"), null=True)
    extensions = models.PositiveIntegerField(default=0)
    alert_roles = models.JSONField(default=list, blank=True)
    due_soon_hours = models.PositiveIntegerField(default=24)
    seed = models.CharField(max_length=40, blank=True)
    # Set by the sweep once it has raised this clock's alerts of that kind (each is raised once
    # per clock): a steady sweep reads only the clocks still owed one, through the partial
    # indexes below, instead of every running clock.
    due_soon_alerted = models.BooleanField(default=False, editable=False)
    overdue_alerted = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        # The id breaks a tie: two clocks falling due at the same instant (a 1-day and a 3-day
        # limit rolled over one weekend) are listed in the order they started, here and in the
        # registration's answer (``case_register``), which must equal the case's detail.
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="running", kind="deadline", overdue_alerted=False),
                name="clock_overdue_owed",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="running", kind="deadline", due_soon_alerted=False),
                name="clock_due_soon_owed",
            ),
            # The longest due-soon span among them bounds the sweep's range: read off this
            # index, not by scanning every running clock.
            models.Index(
                fields=["due_soon_hours"],
                condition=models.Q(status="running", kind="deadline", due_soon_alerted=False),
                name="clock_due_soon_span",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.name}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("即将到期")
        OVERDUE = "overdue", _("已超期")
        WARNING = "warning", _("预警")
        ANALYSIS = "analysis", _("60日未息访需分析原因")

    # Read by the unique index on (case, clock, kind, role), which leads with it: no index of
    # its own to write for each alert.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts",
                             db_index=False)
    clock = models.ForeignKey(
        Clock, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    role = models.CharField(_("提醒角色"), max_length=20)
    unit = models.ForeignKey(
        "org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.CharField(max_length=300)
    # The clock's deadline when the alert was raised: a clock extended (or recomputed) after
    # its due-soon or overdue alert runs out again, and owes them again for the new deadline.
    # None on alerts raised before the column existed (and on alerts about no clock).
    due_at = models.DateTimeField(_("所提醒的期限"), null=True, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at"]
        constraints = [
            # The sweep may run any number of times; each alert exists once per deadline of
            # its clock.
            models.UniqueConstraint(
                fields=["case", "clock", "kind", "role", "due_at"], name="alert_once_per_deadline"
            ),
            # NULLs are distinct in a unique index: alerts about no clock need their own.
            models.UniqueConstraint(
                fields=["case", "kind", "role"],
                condition=models.Q(clock__isnull=True),
                name="alert_once_without_clock",
            ),
        ]

    def __str__(self) -> str:
        return self.message


class WarningNotice(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="warning_notices")
    # The case's own (a case never changes jurisdiction): an office's list of its notices reads
    # them by its jurisdictions off an index, instead of probing every case of the county for a
    # notice (``web.supervision.warning_rows``). Indexed by ``notice_jurisdiction_idx``.
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                                     db_index=False)
    rule = models.CharField(max_length=60)
    reasons = models.JSONField(default=list)
    to_roles = models.JSONField(default=list)
    cc_roles = models.JSONField(default=list)
    issued_at = models.DateTimeField(_("下发时间"))
    follow_up = models.ForeignKey(
        Clock, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    cause = models.TextField(_("原因分析"), blank=True)
    measures = models.TextField(_("化解稳控措施"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("预警提醒单")
        verbose_name_plural = _("预警提醒单")
        constraints = [
            models.UniqueConstraint(fields=["case", "rule"], name="warning_once_per_rule"),
        ]
        indexes = [
            models.Index(fields=["jurisdiction", "answered_at"], name="notice_jurisdiction_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.rule}"


class SweepMark(models.Model):
    """The version of a case the sweep last applied the warning rules to: it applies them again
    only once a transition has changed the case (a new version). A table of its own, two columns
    and one index: a first pass marks every open case of a province (100,000 at a million
    cases), and a row of the cases table carries some thirty indexes that an update writes each
    (about 1 ms a row; here an upsert writes the row and its key)."""

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.case_id} v{self.version}"
