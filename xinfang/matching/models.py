"""What the matching keeps: the fuzzy-name keys of each person, and the clerks' verdicts on the
earlier cases offered to them (a link confirmed, or "not the same" — never offered again)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonKey(models.Model):
    """One fuzzy-name key of a person (``keys.person_keys``): a 64-bit blind-index prefix, no
    name in clear. Kept by ``services.person_keys_refresh`` whenever a person is saved."""

    petitioner = models.ForeignKey(
        "cases.Petitioner", on_delete=models.CASCADE, related_name="match_keys"
    )
    key = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = _("信访人比对键")
        verbose_name_plural = _("信访人比对键")
        constraints = [
            models.UniqueConstraint(fields=["petitioner", "key"], name="match_person_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.petitioner_id}: {self.key}"


class Verdict(models.TextChoices):
    SAME = "same", _("确认为同一事项")
    NOT_SAME = "not_same", _("确认不是同一事项")


class MatchDecision(models.Model):
    """A clerk's word on an earlier case offered while registering ``later``. ``not_same`` keeps
    ``earlier`` from being offered again for ``later`` or any case of ``later``'s people."""

    earlier = models.ForeignKey(
        "cases.Case", verbose_name=_("此前信访件"), on_delete=models.PROTECT, related_name="+"
    )
    later = models.ForeignKey(
        "cases.Case", verbose_name=_("本次信访件"), on_delete=models.PROTECT,
        related_name="match_decisions",
    )
    verdict = models.CharField(_("结论"), max_length=10, choices=Verdict.choices)
    score = models.FloatField(_("相似度"), null=True, blank=True)
    reasons = models.JSONField(_("依据"), default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("重复信访比对结论")
        verbose_name_plural = _("重复信访比对结论")
        indexes = [models.Index(fields=["earlier", "verdict"], name="match_decision_earlier")]
        constraints = [
            models.UniqueConstraint(fields=["earlier", "later"], name="match_decision_pair")
        ]

    def __str__(self) -> str:
        return f"{self.later_id} → {self.earlier_id}: {self.verdict}"
