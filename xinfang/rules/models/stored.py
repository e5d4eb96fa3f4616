"""What the rules app keeps in the database: every profile version ever used, and loaded calendars.

The YAML text itself is stored, so a case accepted under version 3 can still be explained after
the file on disk has moved on to version 4.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProfileVersion(models.Model):
    code = models.CharField(_("配置代码"), max_length=40)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=200)
    text = models.TextField(_("配置内容"))
    # The texts of the profiles it extends, as they were when this version was stored.
    parents = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=64)
    source = models.CharField(_("来源"), max_length=255)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("规则配置版本")
        verbose_name_plural = _("规则配置版本")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="profile_version_unique"),
        ]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class CalendarYear(models.Model):
    """A year of the State Council's holiday notice loaded by an administrator."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    text = models.TextField(_("通知内容"))
    source = models.CharField(_("来源文件"), max_length=255)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recomputed_clocks = models.PositiveIntegerField(_("重算时限数"), default=0)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
