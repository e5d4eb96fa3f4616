"""代办 (seed 004 §二(三) "三帮一办"): a case taken on by a proxy agent on the petitioner's behalf.

The mark is this row — the proxy rate, the closing and satisfaction rates of proxied cases count
the cases that have one, not the cases some proxy agent happened to touch. One per case. What the
agent does on the case is written to the case's history (``proxy_step``)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class ProxyHandling(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="proxy")
    agent = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("代办员"))
    agent_unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    # The help promised, from the profile's list (三帮一办).
    helps = models.JSONField(_("代办内容"), default=list)
    note = models.TextField(_("说明"), blank=True)
    taken_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(_("代办时间"))

    class Meta:
        verbose_name = _("代办")
        verbose_name_plural = _("代办")
        indexes = [models.Index(fields=["agent", "-taken_at"], name="proxy_agent_list")]

    def __str__(self) -> str:
        return f"代办 {self.case_id}"
