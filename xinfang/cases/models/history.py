"""The legal record of a case. Rows are only ever inserted: the model refuses updates and deletes,
and database triggers (migrations 0003 and 0006_history_sealed) refuse them from raw SQL too. Each
event is sealed with an HMAC chained per case, so a trigger dropped and rows edited or deleted
still shows in ``xinfang audit verify``."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .case import Case


class HistoryIsAppendOnly(Exception):
    pass


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events",
                             db_index=False)  # case_event_seq_unique leads with it
    seq = models.PositiveIntegerField(_("序号"))
    at = models.DateTimeField(_("时间"))
    type = models.CharField(_("事件"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(_("角色"), max_length=20, blank=True)
    actor_unit = models.ForeignKey(
        "org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("原状态"), max_length=24, blank=True)
    to_state = models.CharField(_("新状态"), max_length=24, blank=True)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    profile_code = models.CharField(max_length=40)
    profile_version = models.PositiveIntegerField()
    # HMAC-SM3 over this event and the previous event's ``mac`` in the same case, under the MAC
    # key ``mac_key_id`` of the key file (``xinfang/audit/sealing.py``). Empty: written before
    # history was sealed.
    mac_key_id = models.CharField(max_length=32, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["case_id", "seq"]  # the id: "case" would join the cases to sort by their order
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.type}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise HistoryIsAppendOnly("办理记录只能追加，不能修改；更正请追加新记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryIsAppendOnly("办理记录不能删除。")
