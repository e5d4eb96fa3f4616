"""What happens to a case after registration: signatures, assignments, contacts, reports,
extensions, documents, deliveries and attachments. Rows here are written only by the services."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinfang.security.fields import EncryptedTextField

from .. import choices as c
from .case import Case

_USER = settings.AUTH_USER_MODEL


class Signature(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="signatures")
    stage = models.CharField(_("环节"), max_length=20, choices=c.SignatureStage.choices)
    role = models.CharField(_("签署角色"), max_length=20)
    user = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("签署时间"))
    note = models.TextField(_("签署意见"), blank=True)

    class Meta:
        verbose_name = _("签批")
        verbose_name_plural = _("签批")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.stage}:{self.role}"


class Assignment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(  # no index of its own: (unit, status) leads with it
        "org.Unit", verbose_name=_("承办单位"), on_delete=models.PROTECT,
        related_name="assignments", db_index=False,
    )
    role = models.CharField(_("主协办"), max_length=10, choices=c.AssignmentRole.choices)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=c.AssignmentStatus.choices,
        default=c.AssignmentStatus.ACTIVE,
    )
    assigned_at = models.DateTimeField(_("交办时间"))
    assigned_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    receiver_name = models.CharField(_("接收人"), max_length=50)
    responsible_person = models.CharField(_("责任人"), max_length=50, blank=True)
    signed_for_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_for_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["assigned_at", "id"]
        # By unit and status, with the case: ``assignment_unit_cases`` (migration 0043), one
        # form on each database, so it is not declared here.

    def __str__(self) -> str:
        return f"{self.case_id}→{self.unit_id} ({self.role})"


class Contact(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(_("方式"), max_length=20, choices=c.ContactKind.choices)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("情况"), blank=True)

    class Meta:
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}@{self.at:%Y-%m-%d}"


class Report(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(_("报告类型"), max_length=20, choices=c.ReportKind.choices)
    text = models.TextField(_("内容"))
    at = models.DateTimeField(_("报送时间"))
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("报告")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.get_kind_display()}"


class Extension(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extensions")
    requested_at = models.DateTimeField(_("申请时间"))
    requested_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("延期理由"))
    progress_report = models.TextField(_("办理进度"))
    expected_completion = models.DateField(_("预计办结日期"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved = models.BooleanField(_("批准"), null=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"{self.case_id}:延期申请{self.requested_at:%Y-%m-%d}"


class Document(models.Model):
    """A written instrument (文书). A re-drafted letter supersedes the old row; none is deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("文书"), max_length=30, choices=c.DocumentKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=c.DocumentStatus.choices, default=c.DocumentStatus.DRAFT
    )
    body = models.TextField(_("正文"), blank=True)
    data = models.JSONField(_("字段"), default=dict, blank=True)
    created_at = models.DateTimeField(_("起草时间"))
    created_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("出具时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.get_kind_display()}"


class Delivery(models.Model):
    """送达回证: how a document reached the petitioner, or that they refused it before a witness."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deliveries")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="deliveries")
    mode = models.CharField(_("送达方式"), max_length=20, choices=c.DeliveryMode.choices)
    delivered_at = models.DateTimeField(_("送达时间"))
    deliverer = models.CharField(_("送达人"), max_length=50)
    # The person who received it — the petitioner, mostly: encrypted at rest like their name.
    recipient = EncryptedTextField(_("受送达人"))
    receipt_signed = models.BooleanField(_("已签收回证"), default=False)
    refused = models.BooleanField(_("拒收"), default=False)
    refusal_reason = models.TextField(_("拒收理由"), blank=True)
    witness = models.CharField(_("见证人"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("送达回证")
        verbose_name_plural = _("送达回证")
        ordering = ["delivered_at"]

    def __str__(self) -> str:
        return f"{self.case_id}:送达{self.delivered_at:%Y-%m-%d}"

    @property
    def proves_delivery(self) -> bool:
        return self.receipt_signed or (self.refused and bool(self.witness))


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    original_name = models.CharField(_("文件名"), max_length=255)
    stored_name = models.CharField(max_length=80, unique=True, editable=False)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(_("校验值"), max_length=64)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"))
    uploaded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name
