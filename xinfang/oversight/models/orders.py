"""督办单, 督查通报 and 核查意见.

A ``SupervisionOrder`` (seed 000 §十, seed 003 §三(二)) is issued by an inspector or the petition
office on a case or on a unit: what (``matter``), by when (``due_at``), to whom (``unit``). The unit
answers it; an answer after ``due_at`` is ``answered_late``, and an order still unanswered past its
due instant is flagged by the sweep (``late_flagged_at``) — once. Nothing is deleted: an order is
answered, never withdrawn.

A ``SupervisionBulletin`` (督查通报, seed 000 §十(三) "督查后下发督查通报") summarises a round: the
orders of the issuing jurisdiction issued in its period, with the figures frozen as issued.

A ``Verification`` (核查意见, seed 003 §三(二) "对转交县级调查的信访件，市级必须严格核查并
报告核查意见"; seed 001 §四(二) "实地跟踪核查办理情况") is the upper level's own record on a
case's report-back: how it checked (on paper, on site, by phone), its opinion, and whether it
confirms the report or sends it back."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class SupervisionBulletin(models.Model):
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=120)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    summary = models.TextField(_("通报内容"))
    # The round's figures as issued: totals and one line per unit (never recomputed).
    figures = models.JSONField(_("统计"), default=dict)
    issued_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    issued_role = models.CharField(max_length=20)
    issued_at = models.DateTimeField(_("通报时间"))

    class Meta:
        verbose_name = _("督查通报")
        verbose_name_plural = _("督查通报")
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["jurisdiction", "-issued_at"], name="bulletin_home")]

    def __str__(self) -> str:
        return self.title


class SupervisionOrder(models.Model):
    # The issuing office's jurisdiction: the order is read by that jurisdiction's office and
    # inspectors (and by the units under it that must answer).
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="supervision_orders", verbose_name=_("信访件"))
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("督办对象"))
    matter = models.TextField(_("督办事项及要求"))
    due_at = models.DateTimeField(_("答复时限"))
    issued_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    issued_role = models.CharField(max_length=20)
    issued_unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("督办时间"))
    answer = models.TextField(_("办理情况"), blank=True)
    answered_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_late = models.BooleanField(_("逾期答复"), default=False)
    late_flagged_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)
    bulletin = models.ForeignKey(SupervisionBulletin, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="orders")

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["jurisdiction", "-issued_at"], name="order_home"),
            models.Index(fields=["unit", "answered_at"], name="order_unit"),
            # What the sweep reads: open orders not yet flagged, by due instant.
            models.Index(fields=["due_at"], name="order_to_flag",
                         condition=Q(answered_at=None, late_flagged_at=None)),
        ]

    def __str__(self) -> str:
        return f"督办单 {self.pk}"

    def status(self, now) -> str:
        if self.answered_at is not None:
            return "answered_late" if self.answered_late else "answered"
        return "overdue" if now > self.due_at else "open"


class Verification(models.Model):
    class Method(models.TextChoices):
        DOCUMENT = "document", _("书面核查")
        SITE = "site", _("实地核查")
        PHONE = "phone", _("电话回访核查")

    class Verdict(models.TextChoices):
        CONFIRMED = "confirmed", _("核查属实，同意办理结果")
        RETURNED = "returned", _("核查不实，退回重办")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT,
                             related_name="verifications")
    # The history entry of the report-back verified (the newest at the time).
    reported_back = models.ForeignKey("cases.CaseEvent", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("核查方式"), max_length=12, choices=Method.choices)
    opinion = models.TextField(_("核查意见"))
    verdict = models.CharField(_("核查结论"), max_length=12, choices=Verdict.choices)
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("核查时间"))

    class Meta:
        verbose_name = _("核查意见")
        verbose_name_plural = _("核查意见")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"核查意见 {self.pk}"
