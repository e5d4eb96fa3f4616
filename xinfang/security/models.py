from django.conf import settings
from django.db import models
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
