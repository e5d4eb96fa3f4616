"""The three registers kept beside single cases (seed 001 附件1–3), one column per ledger column.

Each register row holds every column of its ledger (FORMS.md L1–L3), so a ledger filled by hand can
be imported row for row and exported back unchanged. Field → ledger column:

``ScreeningFinding`` (L1 不稳定因素排查处置台账): 排查时间 ``screened_on``; 信访人姓名
``person_name`` (encrypted, exact lookup by ``name_index``); 联系方式 ``contact`` (encrypted);
是否脱贫户(监测对象) ``exited_or_monitored``; 问题所属地 ``township``/``village`` (units) or, when
they are not units of the tree, ``locality_text`` as written ("X乡(镇)Y村(社区)"); 反映问题
``problem``; 问题类别 ``category``; 是否为新排查出的不稳定因素 ``is_new``; 责任单位
``responsible_unit`` or ``responsible_unit_text``; 三到位一处理 ``solved`` / ``guided`` /
``assisted`` / ``dealt_by_law`` (None = blank, not asked); 是否稳定 ``stable``; 备注 ``note``. 序号
is the row's place in the export. The row belongs to ``township`` (its unit enters and updates it)
within ``jurisdiction`` (the petition office's home unit, which sees and edits all of them).

``BacklogCase`` (L2 涉贫信访舆情积案台账): 初访时间 ``first_petition_on``; 信访人姓名/联系方式 — of
the linked ``case``'s main petitioners when there is a case (read live, so a confidential person
stays masked), else ``person_name``/``contact`` (encrypted); 是否脱贫户 ``exited_or_monitored``;
问题所属地 ``township``/``village`` or ``locality_text``; 反映问题 ``problem``; 问题类别
``category``; 积案原因 ``reason``; 包案人 ``owner_leader`` (a user) or ``owner_leader_text`` (as
written); 责任单位 ``responsible_unit`` or ``responsible_unit_text``; 三到位一处理, 是否稳定, 备注
as in L1. Resolution: ``resolved_at``, ``resolved_by``, ``outcome``. ``entry`` says how the row came
in (designated by a leader, sent by the profile, imported). The row belongs to ``responsible_unit``
within ``jurisdiction``.

``StaffRosterEntry`` (L3 乡镇涉贫信访干部队伍统计表): 单位 ``unit``; 分管领导 ``leader_name``; 职务
``leader_position``; 办公电话 ``leader_office_phone``; 手机号码 ``leader_mobile``; 涉贫信访专干
``clerk_name``; 办公电话 ``clerk_office_phone``; 手机号码 ``clerk_mobile``. One row per unit, which
keeps it.

Names and phones are written through the ORM in clear; the field encrypts them and ``save`` computes
``name_index``. ``bulk_create`` does not call ``save``: fill ``name_index`` with
``xinfang.security.names.name_index`` yourself. """

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinfang.security.fields import EncryptedTextField

_USER = settings.AUTH_USER_MODEL


def _name_index(name: str) -> str:
    from xinfang.security.names import name_index

    return name_index(name)


class Source(models.TextChoices):
    TYPED = "typed", _("录入")
    IMPORTED = "imported", _("导入")


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
    locality_text = models.CharField(_("问题所属地"), max_length=100, blank=True,
                                     help_text=_("不在单位树中时按原文填写：X乡(镇)Y村(社区)"))
    person_name = EncryptedTextField(_("信访人姓名"))
    name_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    contact = EncryptedTextField(_("联系方式"), blank=True)
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
    responsible_unit_text = models.CharField(_("责任单位（原文）"), max_length=100, blank=True)
    solved = models.BooleanField(_("诉求合理的是否解决到位"), null=True, blank=True)
    guided = models.BooleanField(_("诉求无理的是否思想引导到位"), null=True, blank=True)
    assisted = models.BooleanField(_("生活困难的是否帮扶救助到位"), null=True, blank=True)
    dealt_by_law = models.BooleanField(_("行为违法的是否依法处理"), null=True, blank=True)
    stable = models.BooleanField(_("是否稳定"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("转为信访件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_finding",
    )
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices,
                              default=Source.TYPED)
    recorded_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        verbose_name = _("排查线索")
        verbose_name_plural = _("不稳定因素排查台账")
        ordering = ["-month", "township_id"]
        indexes = [models.Index(fields=["jurisdiction", "screened_on", "id"])]

    def __str__(self) -> str:
        return f"{self.screened_on} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        self.name_index = _name_index(self.person_name)
        if kwargs.get("update_fields") is not None and "person_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_index"}
        super().save(*args, **kwargs)


class BacklogCase(models.Model):
    """积案 (L2): a case designated as backlog by a leader, sent by the profile, or an old backlog
    line imported without a case; owned by a leader, with a one-case-one-plan."""

    class Entry(models.TextChoices):
        DESIGNATED = "designated", _("领导认定")
        LEADER_REPEAT = "leader_repeat", _("领导包案的重复访")
        UNSETTLED = "unsettled", _("逾期未化解")
        IMPORTED = "imported", _("导入")

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="backlog")
    entry = models.CharField(_("列入方式"), max_length=16, choices=Entry.choices,
                             default=Entry.DESIGNATED)
    first_petition_on = models.DateField(_("初访时间"), null=True, blank=True)
    person_name = EncryptedTextField(_("信访人姓名"), blank=True)
    name_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    contact = EncryptedTextField(_("联系方式"), blank=True)
    exited_or_monitored = models.BooleanField(_("是否脱贫户（监测对象）"), default=False)
    township = models.ForeignKey("org.Unit", verbose_name=_("乡镇"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("org.Unit", verbose_name=_("村"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    locality_text = models.CharField(_("问题所属地(乡镇、村)"), max_length=100, blank=True)
    problem = models.TextField(_("反映问题"), blank=True)
    category = models.CharField(_("问题类别"), max_length=40, blank=True)
    reason = models.TextField(_("积案原因"))
    owner_leader = models.ForeignKey(
        _USER, verbose_name=_("包案人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+"
    )
    owner_leader_text = models.CharField(_("包案人（原文）"), max_length=100, blank=True)
    responsible_unit = models.ForeignKey("org.Unit", verbose_name=_("责任单位"), null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+")
    responsible_unit_text = models.CharField(_("责任单位（原文）"), max_length=100, blank=True)
    solved = models.BooleanField(_("诉求合理的是否解决到位"), null=True, blank=True)
    guided = models.BooleanField(_("诉求无理的是否思想引导到位"), null=True, blank=True)
    assisted = models.BooleanField(_("生活困难的是否帮扶救助到位"), null=True, blank=True)
    dealt_by_law = models.BooleanField(_("行为违法的是否依法处理"), null=True, blank=True)
    stable = models.BooleanField(_("是否稳定"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    plan = models.TextField(_("一案一策"), blank=True)
    plan_deadline = models.DateField(_("化解时限"), null=True, blank=True)
    designated_at = models.DateTimeField(_("认定时间"))
    designated_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    resolved_at = models.DateTimeField(_("化解时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    outcome = models.TextField(_("化解结果"), blank=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        verbose_name = _("积案")
        verbose_name_plural = _("积案台账")
        # and the register's order, ``backlog_register_order``: written per database by
        # migration 0004 (it names where the empty values go, which SQLite's cannot)
        indexes = [models.Index(fields=["jurisdiction", "designated_at", "id"])]

    def __str__(self) -> str:
        return f"积案 #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        self.name_index = _name_index(self.person_name)
        if kwargs.get("update_fields") is not None and "person_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_index"}
        super().save(*args, **kwargs)


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
