from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Recusal(models.Model):
    """A declared connection (seed 000 §九): the user may not be assigned or act on a case of this
    petitioner, this case, or a matter containing these words."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="recusals")
    petitioner = models.ForeignKey("cases.Petitioner", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    matter_words = models.CharField(_("事项关键词"), max_length=100, blank=True)
    reason = models.CharField(_("回避理由"), max_length=200)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)
    # Who put it on record (the person themselves, or a leader of their office); None from the
    # command line, whose operator the audit entry names.
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("申报人"))
    is_active = models.BooleanField(default=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("撤回人"))
    withdraw_reason = models.CharField(_("撤回理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.reason}"


class Throttle(models.Model):
    """A failure counter for one thing being guessed at: an address signing in, a user name
    nobody holds, a case number on the public page. ``security.throttle`` counts in it under a
    row lock; once ``count`` reaches the caller's limit the key is blocked until
    ``blocked_until`` and counts afresh afterwards."""

    scope = models.CharField(max_length=20)
    key = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="throttle_scope_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}={self.count}"


class SubmittedForm(models.Model):
    """A web form's one-time token (``security.once``), spent in the transaction of the write the
    form asked for: the same form sent again (a double click, a resend) finds it spent and is
    sent to what the first did, instead of doing it twice. ``answer``: where the first went."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    answer = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["at"], name="submitted_form_at")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.at:%Y-%m-%d %H:%M}"


class KeptAnswer(models.Model):
    """An API write's answer kept under the client's ``Idempotency-Key`` (``api.replay``): the
    same request sent again is answered with it, not done again. ``fingerprint``: what was sent
    (the path and the body), so a key reused for another request is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=150)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="kept_answer_once"),
        ]
        indexes = [models.Index(fields=["at"], name="kept_answer_at")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class PasswordResetRequest(models.Model):
    """Resetting an administrator's or the auditor's password (三员分立): one administrator asks,
    a different one approves; only the approval issues the one-time password."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待批准")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已拒绝")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="password_reset_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    reason = models.CharField(_("理由"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("密码重置申请")
        verbose_name_plural = _("密码重置申请")
        constraints = [
            # One open request per account: a second ask waits for the first answer.
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="pending"),
                                    name="password_reset_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status}"


class PasswordHandover(models.Model):
    """An ordinary account's password reset (三员分立): the system administrator resets, which
    voids the old password, and a leader of the account's own unit (分管领导 or 主要领导) collects
    the one-time password — made at that moment, never stored in clear — once, before
    ``collect_until``, to hand to its holder. The administrator never sees it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待领取")
        COLLECTED = "collected", _("已领取")
        EXPIRED = "expired", _("逾期未领取")
        CANCELLED = "cancelled", _("已作废")

    class Kind(models.TextChoices):
        RESET = "reset", _("重置")
        # A first business role voided the password the system administrator typed when it
        # made the account (``password_services.first_password_void``); ``reset_by``: the
        # security administrator who granted it.
        FIRST = "first", _("首次任职")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="password_handovers")
    reset_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    reset_at = models.DateTimeField(_("重置时间"))
    kind = models.CharField(_("缘由"), max_length=10, choices=Kind.choices, default=Kind.RESET)
    collect_until = models.DateTimeField(_("领取期限"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField(_("领取时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("一次性密码转交")
        verbose_name_plural = _("一次性密码转交")
        constraints = [
            # One waiting per account: a second reset waits for the first to be collected or
            # to lapse.
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="pending"),
                                    name="password_handover_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status}"

    def lapsed(self, at=None) -> bool:
        return self.status == self.Status.PENDING and self.collect_until <= (at or timezone.now())

    def status_label(self) -> str:
        return str(self.Status.EXPIRED.label if self.lapsed() else self.get_status_display())

    def collectors(self):
        from xinfang.web.password_services import password_collectors

        return password_collectors(self.user)


class SignInSession(models.Model):
    """One signed-in session of a user, so that their number can be limited
    (``XINFANG_MAX_SESSIONS_PER_USER``). Ending one deletes it from the session store."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="sign_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()
    ip = models.CharField(max_length=45, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "started_at"], condition=models.Q(ended_at=None),
                         name="signin_session_open"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.started_at:%Y-%m-%d %H:%M}"
