"""What was imported, from which file, by whom — and which row became which record, so the same
file (or the same row in a later file) never creates anything twice."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        UNITS = "units", _("单位")
        LEDGER = "ledger", _("台账")

    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        DONE = "done", _("已导入")
        FAILED = "failed", _("未导入")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("文件SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("文件大小"), default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(  # the jurisdiction a ledger went into (None for the unit tree)
        "org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    membership = models.ForeignKey(
        "org.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    done_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    skip_invalid = models.BooleanField(_("跳过有误的行"), default=False)
    counts = models.JSONField(_("结果"), default=dict, blank=True)
    # The uploaded file between preview and confirmation, encrypted under the key ring (it holds
    # names and phone numbers); emptied once imported or abandoned.
    content = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class ImportedRow(models.Model):
    """One ledger row that became a record. ``key`` is the SHA-256 of the row's natural key
    (``imports.keys``): the same row imported again finds it here and is skipped."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    ledger = models.CharField(max_length=4)
    key = models.CharField(max_length=64)
    natural = models.CharField(max_length=255, blank=True)  # what the key was made of, readable
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="rows")
    sheet = models.CharField(max_length=100)
    row = models.PositiveIntegerField()
    object_type = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "ledger", "key"], name="imported_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ledger}:{self.natural}"
