"""结案审核 and 整改 (seed 002 §四(三)).

A reviewer checks a closed case on the profile's points (kaijiang: procedure; documents; delivery
on time; every demand answered; reasonableness; legal and policy basis; opinion clear and carried
out). Each check is a ``CaseReview`` of its own round; a failed point sends a ``Rectification`` to
the lead unit with its own deadline. The unit answers; the reviewer reviews again (the next round).
A case counts as resolved where the profile says so only once a round has passed; a passed case
is not reviewed again."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class CaseReview(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="closing_reviews")
    round = models.PositiveSmallIntegerField(_("审核轮次"))
    # {point name: {"label": …, "ok": bool, "remark": str}} — labels frozen as reviewed.
    points = models.JSONField(_("审核要点"))
    passed = models.BooleanField(_("审核通过"))
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("审核时间"))

    class Meta:
        verbose_name = _("结案审核")
        verbose_name_plural = _("结案审核")
        ordering = ["case_id", "round"]  # the id: "case" would join the cases
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="review_round_once"),
            models.UniqueConstraint(fields=["case"], condition=Q(passed=True),
                                    name="review_passes_once"),
        ]
        indexes = [models.Index(fields=["case", "passed"], name="review_case")]

    def __str__(self) -> str:
        return f"审核 {self.case_id}/{self.round}"

    @property
    def failed_points(self) -> list[str]:
        return [p["label"] for p in self.points.values() if not p.get("ok")]


class Rectification(models.Model):
    review = models.OneToOneField(CaseReview, on_delete=models.PROTECT,
                                  related_name="rectification")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT,
                             related_name="rectifications")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("整改单位"))
    request = models.TextField(_("整改意见"))
    due_at = models.DateTimeField(_("整改时限"))
    issued_at = models.DateTimeField(_("提出时间"))
    answer = models.TextField(_("整改情况"), blank=True)
    answered_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(_("整改报告时间"), null=True, blank=True)
    answered_late = models.BooleanField(_("逾期整改"), default=False)
    late_flagged_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改要求")
        verbose_name_plural = _("整改要求")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["unit", "answered_at"], name="rectif_unit"),
            models.Index(fields=["due_at"], name="rectif_to_flag",
                         condition=Q(answered_at=None, late_flagged_at=None)),
        ]

    def __str__(self) -> str:
        return f"整改 {self.case_id}"
