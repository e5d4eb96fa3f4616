"""The inbox (站内提醒) and the outbound channels (邮件、Webhook、钉钉、企业微信).

A ``Notice`` is addressed to a unit and a role (blank: every role of the unit); who of them
actually sees it is decided when it is read, through the permission door. Each user keeps their
own read/dismissed state (``NoticeState``). The notice is written in the same transaction as the
event, flagged ``outbox_pending``; the deliverer fans it out into one ``Delivery`` per channel of
the unit, sends each and records every ``Attempt``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinfang.security.fields import EncryptedTextField


class Kind(models.TextChoices):
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超期")
    WARNING = "warning", _("预警")
    ANALYSIS = "analysis", _("须分析原因")
    ASSIGNED = "assigned", _("交办")
    SUPERVISION_ORDER = "supervision_order", _("督办单")
    RECTIFICATION = "rectification", _("整改要求")
    RATING = "rating", _("满意度评价")
    TEST = "test", _("测试消息")
    # The practices (xinfang.practices): items without a case, or about one (a return visit).
    RETURN_VISIT = "return_visit", _("回访")
    MEETING = "meeting", _("会议")
    WATCH = "watch", _("重点人员")
    PERSUADE = "persuade", _("应急劝返")
    CAMPAIGN = "campaign", _("专项活动")
    # A unit left with open work and nobody in it (its last role withdrawn): to its office.
    UNATTENDED = "unattended", _("无人办理")


# The kinds the sweep raises as ``Alert`` rows (same values as ``Alert.Kind``).
ALERT_KINDS = [Kind.DUE_SOON, Kind.OVERDUE, Kind.WARNING, Kind.ANALYSIS]


class Notice(models.Model):
    # None: a practice's notice about no one case (a meeting missed, a watch-list review due);
    # ``link`` then says where to act.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    link = models.CharField(_("办理页面"), max_length=200, blank=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    # No index of its own: the inbox's two indexes lead with the unit (issue 9: every index is
    # one more write for each of a first sweep's 250,000 notices).
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    # Blank: every role of the unit (a handling unit's staff share an assignment).
    role = models.CharField(_("提醒角色"), max_length=20, blank=True)
    text = models.CharField(_("内容"), max_length=300)
    todo = models.CharField(_("需办理"), max_length=200, blank=True)
    clock = models.ForeignKey(
        "cases.Clock", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Read by the unique index on (event, unit, role), which holds every notice with an event.
    event = models.ForeignKey(
        "cases.CaseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    needs_reason = models.BooleanField(_("销号须说明理由"), default=False)
    # An alert's notice: the deadline its alert was raised for (``cases.Alert.due_at``).
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))
    # The outbox flag: written true with the notice, in the event's transaction; the deliverer
    # turns it into one ``Delivery`` per channel of the unit and clears it. The event's own
    # transaction thus pays one INSERT, whatever the channels.
    outbox_pending = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # One unit and role's notices, newest first with the inbox's tie-break: the inbox's
            # window reads each (unit, role) off it in order (``_newest_sent``). Without the id
            # a plan kept for the statement walked ``notice_unit_recent`` instead, filtering
            # the unit's 20,000 notices for a role that had none (6.8 ms against 0.1, lead35).
            models.Index(fields=["unit", "role", "-created_at", "-id"],
                         name="notice_inbox_newest"),
            # The inbox's newest first across the reader's role and the unit's every-role
            # notices: walked in order, stopping at the page's last row.
            models.Index(fields=["unit", "-created_at", "-id"], name="notice_unit_recent"),
            models.Index(fields=["id"], condition=models.Q(outbox_pending=True),
                         name="notice_outbox_pending"),
        ]
        constraints = [
            # An alert's notice exists once, however often the sweep runs: the alert's own key.
            models.UniqueConstraint(
                fields=["case", "clock", "kind", "role", "due_at"],
                condition=models.Q(kind__in=ALERT_KINDS, event__isnull=True),
                name="notice_once_per_alert_deadline",
            ),
            models.UniqueConstraint(
                fields=["case", "kind", "role"],
                condition=models.Q(kind__in=ALERT_KINDS, event__isnull=True, clock__isnull=True),
                name="notice_once_per_alert_without_clock",
            ),
            models.UniqueConstraint(
                fields=["event", "unit", "role"], condition=models.Q(event__isnull=False),
                name="notice_once_per_event_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class NoticeState(models.Model):
    """One user's reading of one notice: read, or dismissed (销号) with the reason given."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    reason = models.CharField(_("销号理由"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "notice"], name="notice_state_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.user_id}"


class Channel(models.Model):
    class Format(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("通用 Webhook（HMAC-SHA256 签名）")
        DINGTALK = "dingtalk", _("钉钉群机器人")
        WECOM = "wecom", _("企业微信群机器人")

    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=60)
    format = models.CharField(_("类型"), max_length=10, choices=Format.choices)
    # The webhook address, or the mail recipients separated by commas.
    target = EncryptedTextField(_("地址"))
    secret = EncryptedTextField(_("签名密钥"), blank=True)
    # Empty: every kind of notice.
    kinds = models.JSONField(_("推送类别"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("推送渠道")
        verbose_name_plural = _("推送渠道")
        ordering = ["unit_id", "pk"]
        indexes = [models.Index(fields=["unit", "is_active"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_format_display()}）"


class Delivery(models.Model):
    """The outbox: one message of one notice to one channel."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已送达")
        DEAD = "dead", _("多次失败")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_at = models.DateTimeField(_("下次发送时间"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_at"], condition=models.Q(status="pending"), name="delivery_due"
            ),
            models.Index(
                fields=["claimed_at"], condition=models.Q(status="sending"),
                name="delivery_claimed",
            ),
            models.Index(fields=["status", "-created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}→{self.channel_id} ({self.status})"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    at = models.DateTimeField(_("时间"))
    ok = models.BooleanField(_("成功"))
    detail = models.CharField(_("结果"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id}@{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'failed'}"
