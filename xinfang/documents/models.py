"""Issued instruments, their frozen renditions, and the office's templates.

An ``IssuedDocument`` is one version of one instrument (D1–D9) of one case. Once written its
renditions — the DOCX (and the PDF made from it) — are stored with their SHA-256 and never
regenerated; a correction is a new version with a reason, and both are kept. Nothing here is
updated except a PDF's conversion status, and nothing is deleted.

Renditions are per *audience*, because a handling unit must not read a petitioner who asked for
confidentiality (``xinfang.cases.disclosure``): ``full`` (every identity in clear, for the case's
own petition office), ``unit`` (confidential petitioners masked), ``masked`` (all masked)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    FULL = "full", _("原件")
    UNIT = "unit", _("承办单位件（保密信访人脱敏）")
    MASKED = "masked", _("脱敏件")


class Format(models.TextChoices):
    DOCX = "docx", "DOCX"
    PDF = "pdf", "PDF"


class DocumentTemplate(models.Model):
    """An office's own template for an instrument (its letterhead, 文号, seal position), uploaded
    by the system administrator. The one in force is the highest version; older ones are kept.
    Without any row the repository's template (version 0) is in force."""

    code = models.CharField(_("文书模板"), max_length=8)
    version = models.PositiveIntegerField(_("版本"))
    content = models.BinaryField(_("模板文件"))
    sha256 = models.CharField(_("校验值"), max_length=64)
    original_name = models.CharField(_("文件名"), max_length=255, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("文书模板")
        verbose_name_plural = _("文书模板")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="document_template_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class IssuedDocument(models.Model):
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="issued_documents"
    )
    code = models.CharField(_("文书"), max_length=20)
    title = models.CharField(_("名称"), max_length=60)
    version = models.PositiveIntegerField(_("版本"), default=1)
    reason = models.TextField(_("更正理由"), blank=True)
    # The case's own instrument row this was filled from (the letter, the acceptance notice …).
    source = models.ForeignKey(
        "cases.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    params = models.JSONField(_("填写内容"), default=dict, blank=True)
    case_version = models.PositiveIntegerField(_("案件版本"))
    template_version = models.PositiveIntegerField(_("模板版本"))
    template_sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField(_("出具时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The people (petitioner ids) the handling units' copy shows in clear, as they stood when it
    # was frozen: one who asks for confidentiality later must not be read from it (None: frozen
    # before this was kept, so not known).
    unit_clear = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("已出具文书")
        verbose_name_plural = _("已出具文书")
        ordering = ["case_id", "issued_at", "id"]  # the id: "case" would join the cases
        constraints = [
            models.UniqueConstraint(
                fields=["case", "code", "version"], name="issued_document_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.code} v{self.version}"


class Rendition(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("PDF 生成中")
        READY = "ready", _("已生成")
        FAILED = "failed", _("生成失败")

    document = models.ForeignKey(
        IssuedDocument, on_delete=models.PROTECT, related_name="renditions"
    )
    audience = models.CharField(max_length=8, choices=Audience.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.READY)
    content = models.BinaryField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("文书文件")
        verbose_name_plural = _("文书文件")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "audience", "format"], name="rendition_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document}:{self.audience}.{self.format}"
