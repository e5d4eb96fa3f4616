"""What other systems (the 12345 hotline, the provincial petition system, an office's own tools)
hold to call the API, and the referrals they have already sent.

``ApiToken``: a bearer token bound to one membership — it acts as that role in that unit and
nothing more — and to scopes that narrow what it may do. 三员分立: an administrator *authorises*
it (a row with no text yet, 待领取); the text is made when the membership's holder collects it
(领取), signed in as themselves, and shown to them once — no administrator ever holds a
credential that reads or acts on cases. Only the SHA-256 of the text is stored (32 random bytes,
so a plain hash cannot be searched backwards). An authorisation not collected by
``collect_until`` lapses. Nothing is deleted: a token is revoked, and stays listed.

``IntakeKey``: one row per sender reference a registering office has accepted. Its unique
constraint is what makes a referral sent twice — one after the other or at the same instant —
register one case.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    READ = "read", _("查询")
    REGISTER = "register", _("登记")
    INTAKE = "intake", _("接收转交件")
    TRANSITION = "transition", _("办理")


STATUS_LABELS = {"revoked": _("已撤销"), "lapsed": _("逾期未领取"), "pending": _("待领取"),
                 "expired": _("已过期"), "active": _("有效")}


class ApiToken(models.Model):
    name = models.CharField(_("名称"), max_length=100, help_text=_("对接的系统，如“12345热线”"))
    membership = models.ForeignKey(
        "org.Membership", on_delete=models.PROTECT, related_name="api_tokens",
        verbose_name=_("以此任职办理"),
    )
    scopes = models.JSONField(_("权限范围"), default=list)
    prefix = models.CharField(_("令牌前缀"), max_length=12, blank=True,
                              help_text=_("用于辨认，不能用于认证"))
    # None until collected: a pending token has no text, so nothing can authenticate as it.
    digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        "org.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by_name = models.CharField(max_length=150, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    # Authorised by an administrator, collected by the holder before ``collect_until`` (a row
    # from before the split was collected when it was made: migration 0002).
    collect_until = models.DateTimeField(_("领取期限"), null=True, blank=True)
    collected_at = models.DateTimeField(_("领取时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    def status(self, at=None) -> str:
        at = at or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.collected_at is None:
            return "lapsed" if self.collect_until and self.collect_until <= at else "pending"
        if self.expires_at and self.expires_at <= at:
            return "expired"
        return "active"

    def status_label(self) -> str:
        return STATUS_LABELS[self.status()]

    def scope_labels(self) -> str:
        return "、".join(str(Scope(s).label) for s in self.scopes if s in Scope.values)


class IntakeKey(models.Model):
    """A sender reference (``Idempotency-Key`` header, else the referral's own number) already
    registered by ``unit``, and the case it became."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", null=True)
    routed = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "key"], name="intake_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.case_id}"
