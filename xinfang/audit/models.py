"""The audit trail (等保 2.0): sign-ins, failures, reveals, exports, downloads, permission and
profile changes. Each entry carries the MAC of the one before it, so removing or altering any
entry breaks the chain that ``xinfang audit verify`` walks; the MAC key lives in the key file,
outside the database, so whoever edits the table cannot compute a new chain."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=40, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=40, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.CharField(_("来源地址"), max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    # HMAC-SM3 under the key file's MAC key ``mac_key_id`` (empty: a plain SHA-256 entry written
    # before the trail was sealed).
    hash = models.CharField(max_length=64, unique=True)
    mac_key_id = models.CharField(max_length=32, blank=True, default="")
    # The detail as the trail's list shows it, where a list in it is long (an export's case
    # numbers): each such list cut to its first ``services.LIST_SHOWN`` items, with its length
    # under ``cut`` — {"detail": {...}, "cut": {"cases": 100000}}; NULL otherwise. The list
    # reads this instead of a detail of megabytes. Not under the MAC: it is derived from the
    # detail, and ``audit_verify`` checks it against the detail.
    brief = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_name}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("审计记录不能删除；超过保存期限的记录由 audit prune 清理。")
