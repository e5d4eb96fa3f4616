"""The three registers kept beside single cases (seed 001 附件1–3)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class ScreeningFinding(models.Model):
    """不稳定因素排查: one line of the monthly screening by township and village (L1)."""

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("排查月份"), help_text=_("该月第一天"))
    screened_on = models.DateField(_("排查时间"))
    township = models.ForeignKey(
        "org.Unit", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        "org.Unit",
        verbose_name=_("村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person_name = models.CharField(_("信访人姓名"), max_length=50)
    contact = models.CharField(_("联系方式"), max_length=40, blank=True)
    exited_or_monitored = models.BooleanField(_("是否脱贫户（监测对象）"), default=False)
    problem = models.TextField(_("反映问题"))
    category = models.CharField(_("问题类别"), max_length=40)
    is_new = models.BooleanField(_("是否为新排查出的不稳定因素"), default=True)
    responsible_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    solved = models.BooleanField(_("诉求合理的是否解决到位"), null=True)
    guided = models.BooleanField(_("诉求无理的是否思想引导到位"), null=True)
    assisted = models.BooleanField(_("生活困难的是否帮扶救助到位"), null=True)
    dealt_by_law = models.BooleanField(_("行为违法的是否依法处理"), null=True)
    stable = models.BooleanField(_("是否稳定"), null=True)
    note = models.TextField(_("备注"), blank=True)
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("转为信访件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_finding",
    )
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("排查线索")
        verbose_name_plural = _("不稳定因素排查台账")
        ordering = ["-month", "township_id"]

    def __str__(self) -> str:
        return f"{self.screened_on} {self.person_name}"


class BacklogCase(models.Model):
    """积案: a case designated as backlog, owned by a leader, with a one-case-one-plan."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="backlog")
    owner_leader = models.ForeignKey(
        _USER, verbose_name=_("包案人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("积案原因"))
    plan = models.TextField(_("一案一策"))
    plan_deadline = models.DateField(_("化解时限"))
    designated_at = models.DateTimeField(_("认定时间"))
    designated_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(_("化解时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("积案")
        verbose_name_plural = _("积案台账")

    def __str__(self) -> str:
        return f"积案 {self.case_id}"


class BacklogProgress(models.Model):
    backlog = models.ForeignKey(BacklogCase, on_delete=models.PROTECT, related_name="progress")
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("进展"))

    class Meta:
        verbose_name = _("积案进展")
        verbose_name_plural = _("积案进展")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.backlog_id}@{self.at:%Y-%m-%d}"


class StaffRosterEntry(models.Model):
    """乡镇涉贫信访干部队伍 (L3): one line per unit."""

    unit = models.OneToOneField(
        "org.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="roster_entry"
    )
    leader_name = models.CharField(_("分管领导"), max_length=50)
    leader_position = models.CharField(_("职务"), max_length=50)
    leader_office_phone = models.CharField(_("办公电话"), max_length=40, blank=True)
    leader_mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    clerk_name = models.CharField(_("涉贫信访专干"), max_length=50)
    clerk_office_phone = models.CharField(_("办公电话"), max_length=40, blank=True)
    clerk_mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信访干部")
        verbose_name_plural = _("涉贫信访干部队伍")

    def __str__(self) -> str:
        return f"{self.unit_id} {self.clerk_name}"
