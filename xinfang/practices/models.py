"""The supervisor's practices (issue 17): the routines by which an office checks its own work.

- ``ReturnVisit`` — one per case once the reply is delivered (seed 004 §二(一) 每件一回访);
- ``Meeting`` — the periodic meetings the profile names, the weekly consultation of each base
  unit (004 §二(一) 每周一会商) among them: attendees, cases and screening findings, measures;
- ``DutySlot`` / ``FieldVisit`` — the leaders' reception roster by weekday (004 §二(六)) and the
  cadres' village visits with the cases they carried (001 §四(四) 每周二扶贫日下访);
- ``PersuadeReturn`` — the group formed when a petitioner is reported at a higher office, the
  return and the follow-up talk (004 §二(五));
- ``WatchEntry`` / ``WatchReview`` — the watch list of key petitioners with an owner, a plan
  (一人一策) and a stability status, reviewed each period (001 §二(一), 000 §十(二), 003 §二(三));
- ``Campaign`` / ``CampaignTask`` / ``CampaignReport`` — special campaigns (001 五项活动,
  003 §二(四), 002 三年攻坚行动);
- ``PracticeFlag`` — a due or missed item the sweep has put in someone's inbox, once.

Nothing here holds a petitioner's identity: the watch list refers to ``cases.Petitioner``
(encrypted), and every page masks it through ``practices.selectors.watch_reach``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c

_USER = settings.AUTH_USER_MODEL


class ReturnVisit(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", _("电话回访")
        VISIT = "visit", _("上门回访")
        MEETING = "meeting", _("约见面谈")

    class Outcome(models.TextChoices):
        SETTLED = "settled", _("息诉息访")
        ACCEPTED = "accepted", _("认可处理意见")
        PENDING = "pending", _("仍有诉求，继续跟进")
        UNREACHABLE = "unreachable", _("未能联系上")

    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="return_visit",
        verbose_name=_("信访件"),
    )
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    # The case's lead handling unit when the visit was made: the unit its satisfaction counts for.
    lead_unit = models.ForeignKey(
        "org.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("承办单位"),
    )
    visited_by = models.ForeignKey(
        _USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("回访人")
    )
    visitor_unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("回访单位")
    )
    visited_at = models.DateTimeField(_("回访时间"))
    method = models.CharField(_("回访方式"), max_length=10, choices=Method.choices)
    outcome = models.CharField(_("回访结果"), max_length=12, choices=Outcome.choices)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=c.Rating.choices)
    note = models.TextField(_("回访情况"), blank=True)
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["-visited_at", "-pk"]
        indexes = [
            models.Index(fields=["jurisdiction", "visited_at"], name="rv_jur_at"),
            models.Index(fields=["lead_unit", "visited_at"], name="rv_unit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.visited_at:%Y-%m-%d}"


class Meeting(models.Model):
    """One meeting held under a rule of the profile (``rule``: the rule's name)."""

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("召开单位")
    )
    rule = models.CharField(_("会议类别"), max_length=40)
    label = models.CharField(_("会议名称"), max_length=100)
    period = models.CharField(_("所属周期"), max_length=10)  # "2026-11", "2026-W48", "2026-Q4"
    period_start = models.DateField(_("周期起始日"))
    held_on = models.DateField(_("召开日期"))
    chaired_by = models.CharField(_("主持人"), max_length=50)
    attendees = models.TextField(_("参会人员"))
    discussion = models.TextField(_("研判情况"), blank=True)
    measures = models.TextField(_("议定措施"))
    cases = models.ManyToManyField(
        "cases.Case", blank=True, related_name="+", verbose_name=_("研究的信访件")
    )
    findings = models.ManyToManyField(
        "registers.ScreeningFinding", blank=True, related_name="+", verbose_name=_("研究的排查问题")
    )
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("会议记录")
        verbose_name_plural = _("会议记录")
        ordering = ["-held_on", "-pk"]
        indexes = [
            models.Index(fields=["jurisdiction", "rule", "period_start"], name="meeting_period")
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.period}"


class DutySlot(models.Model):
    """A leader on reception duty one weekday, from ``starts_on`` (until ``ends_on``): a change
    of the roster ends the old slot and opens a new one, so who was on duty any day stays known."""

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("星期"))  # Monday 0
    leader = models.ForeignKey(
        "org.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("带班领导")
    )
    starts_on = models.DateField(_("起始日期"))
    ends_on = models.DateField(_("截止日期"), null=True, blank=True)
    created_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("接访排班")
        verbose_name_plural = _("接访排班")
        ordering = ["weekday", "-starts_on"]
        indexes = [models.Index(fields=["jurisdiction", "weekday"], name="duty_day")]
        constraints = [
            # One leader on duty a weekday: the slot in force is the one not yet ended.
            models.UniqueConstraint(
                fields=["jurisdiction", "weekday"],
                condition=models.Q(ends_on__isnull=True),
                name="duty_one_open_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}:{self.leader_id}"


class FieldVisit(models.Model):
    """A cadre's visit to a village (下访), with the cases carried there."""

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    cadre = models.ForeignKey(
        "org.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("下访干部")
    )
    village = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("下访村（社区）")
    )
    visited_on = models.DateField(_("下访日期"))
    on_poverty_day = models.BooleanField(_("扶贫日下访"), default=False)
    cases = models.ManyToManyField(
        "cases.Case", blank=True, related_name="+", verbose_name=_("带件")
    )
    note = models.TextField(_("下访情况"))
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("干部下访")
        verbose_name_plural = _("干部下访")
        ordering = ["-visited_on", "-pk"]
        indexes = [models.Index(fields=["jurisdiction", "visited_on"], name="fieldvisit_day")]

    def __str__(self) -> str:
        return f"{self.cadre_id}@{self.visited_on}"


class PersuadeReturn(models.Model):
    class Level(models.TextChoices):
        DISTRICT = "district", _("区（县）")
        CITY = "city", _("市")
        PROVINCE = "province", _("省")
        NATIONAL = "national", _("国家")

    class FollowUp(models.TextChoices):
        APPOINTMENT = "appointment", _("约访")
        TALK = "talk", _("约谈")
        LEGAL_TALK = "legal_talk", _("法制谈话")
        ADMONITION = "admonition", _("训诫")
        INVESTIGATION = "investigation", _("查处侦办")

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("信访件")
    )
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("上访层级"), max_length=10, choices=Level.choices)
    place = models.CharField(_("上访地点"), max_length=100)
    reported_at = models.DateTimeField(_("接报时间"))
    # [{"role": "area_chief", "name": "…"}, …]: the group's members (cadres, not petitioners).
    members = models.JSONField(_("劝返组成员"), default=list)
    formed_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    formed_at = models.DateTimeField(_("成立时间"))
    returned_at = models.DateTimeField(_("劝返回时间"), null=True, blank=True)
    return_note = models.TextField(_("劝返情况"), blank=True)
    follow_up_due = models.DateTimeField(_("跟进时限"), null=True, blank=True)
    follow_up_at = models.DateTimeField(_("跟进时间"), null=True, blank=True)
    follow_up_kind = models.CharField(
        _("跟进措施"), max_length=14, choices=FollowUp.choices, blank=True
    )
    follow_up_note = models.TextField(_("跟进情况"), blank=True)

    class Meta:
        verbose_name = _("应急劝返")
        verbose_name_plural = _("应急劝返")
        ordering = ["-reported_at", "-pk"]
        indexes = [models.Index(fields=["jurisdiction", "reported_at"], name="persuade_at")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.level}"


class WatchEntry(models.Model):
    class Status(models.TextChoices):
        STABLE = "stable", _("稳定")
        WATCH = "watch", _("需关注")
        UNSTABLE = "unstable", _("不稳定")

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    petitioner = models.ForeignKey(
        "cases.Petitioner", on_delete=models.PROTECT, related_name="+", verbose_name=_("重点人员")
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("列管依据信访件")
    )
    reason = models.CharField(_("列管原因"), max_length=200)
    owner = models.ForeignKey(
        "org.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("稳控责任人")
    )
    owner_unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    plan = models.TextField(_("一人一策稳控方案"))
    status = models.CharField(_("稳定状态"), max_length=10, choices=Status.choices)
    added_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("列管时间"))
    last_reviewed_at = models.DateTimeField(_("最近复核时间"))
    review_due = models.DateField(_("下次复核截止"), null=True, blank=True)
    released_at = models.DateTimeField(_("撤销列管时间"), null=True, blank=True)
    released_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("重点人员")
        verbose_name_plural = _("重点人员")
        ordering = ["review_due", "pk"]
        indexes = [
            models.Index(fields=["jurisdiction", "review_due"], name="watch_due"),
            models.Index(fields=["owner_unit", "review_due"], name="watch_owner_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "petitioner"],
                condition=models.Q(released_at__isnull=True),
                name="watch_once_while_listed",
            ),
        ]

    def __str__(self) -> str:
        return f"watch:{self.pk}"


class WatchReview(models.Model):
    entry = models.ForeignKey(WatchEntry, on_delete=models.PROTECT, related_name="reviews")
    period = models.CharField(_("复核周期"), max_length=10)
    reviewed_at = models.DateTimeField(_("复核时间"))
    by = models.ForeignKey(
        _USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("复核人")
    )
    status = models.CharField(_("稳定状态"), max_length=10, choices=WatchEntry.Status.choices)
    note = models.TextField(_("复核情况"))
    plan = models.TextField(_("调整后的方案"), blank=True)

    class Meta:
        verbose_name = _("重点人员复核")
        verbose_name_plural = _("重点人员复核")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.period}"


class Campaign(models.Model):
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("专项活动名称"), max_length=100)
    goals = models.TextField(_("目标任务"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    units = models.ManyToManyField("org.Unit", related_name="+", verbose_name=_("责任单位"))
    cases = models.ManyToManyField(
        "cases.Case", blank=True, related_name="+", verbose_name=_("纳入的信访件")
    )
    findings = models.ManyToManyField(
        "registers.ScreeningFinding", blank=True, related_name="+", verbose_name=_("纳入的排查问题")
    )
    created_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("专项活动")
        verbose_name_plural = _("专项活动")
        ordering = ["-starts_on", "-pk"]

    def __str__(self) -> str:
        return self.name


class CampaignTask(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="tasks")
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    title = models.CharField(_("任务"), max_length=200)
    due_on = models.DateField(_("完成时限"))
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    progress_note = models.TextField(_("进展情况"), blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("专项任务")
        verbose_name_plural = _("专项任务")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["unit", "due_on"], name="ctask_unit_due")]

    def __str__(self) -> str:
        return self.title


class CampaignReport(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField(_("报告周期"), max_length=10)
    summary = models.TextField(_("进展报告"))
    by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("专项活动报告")
        verbose_name_plural = _("专项活动报告")
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "period"], name="campaign_report_once")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.period}"


class PracticeFlag(models.Model):
    """A due or missed item the sweep put in an inbox: ``key`` says which (``rv:<case>``,
    ``watch:<entry>:<due>``, ``meeting:<rule>:<unit>:<period>`` …), once."""

    key = models.CharField(max_length=120, unique=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    text = models.CharField(max_length=300)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["jurisdiction", "kind", "-at"], name="pflag_kind")]

    def __str__(self) -> str:
        return self.key
