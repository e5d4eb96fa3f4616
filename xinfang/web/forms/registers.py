"""Forms of the three registers: a screening finding (L1), a backlog designation and its progress
(L2), a roster line (L3). They parse; the register services check the rules."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.org.choices import Level, Role
from xinfang.org.models import Membership, Unit, User

from .common import ModelChoice, PlainForm, choice, date_field, flag, text


def _places(jurisdiction: Unit):
    """(townships, villages grouped by township) inside a jurisdiction, as select choices."""
    inside = Unit.objects.filter(
        path__under=jurisdiction.path,
        is_active=True,
        level__in=[Level.TOWNSHIP, Level.VILLAGE],
    ).order_by("name")
    units = list(inside)
    townships = {u.pk: u.name for u in units if u.level == Level.TOWNSHIP}
    groups: dict[str, list] = {}
    for u in units:
        if u.level == Level.VILLAGE and u.parent_id in townships:
            groups.setdefault(townships[u.parent_id], []).append((str(u.pk), u.name))
    return [(str(k), v) for k, v in townships.items()], list(groups.items())


def handling_units(jurisdiction: Unit):
    """Units of a jurisdiction that take cases or keep a roster line: above village level."""
    return (
        Unit.objects.filter(path__under=jurisdiction.path, is_active=True)
        .exclude(pk=jurisdiction.pk)
        .exclude(level=Level.VILLAGE)
        .order_by("level", "kind", "name")
    )


class UnitChoice(forms.ChoiceField):
    """A unit picked among the choices given, returned as the Unit."""

    def __init__(self, label, *, required=True, **kw):
        super().__init__(label=label, required=required, **kw)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        unit = Unit.objects.filter(pk=int(value)).first()
        if unit is None:
            raise forms.ValidationError(_("所选单位不存在。"))
        return unit


class ScreeningForm(PlainForm):
    screened_on = date_field(_("排查时间"))
    township = UnitChoice(_("乡镇（街道）"))
    village = UnitChoice(_("村（社区）"), required=False)
    person_name = text(_("信访人姓名"), max_length=50)
    contact = text(_("联系方式"), required=False, max_length=40)
    exited_or_monitored = flag(_("脱贫户（监测对象）"))
    problem = text(_("反映问题"), rows=3)
    category = choice(_("问题类别"), [])
    is_new = flag(_("新排查出的不稳定因素"), initial=True)
    responsible_unit = UnitChoice(_("责任单位"), required=False)
    note = text(_("备注"), required=False, rows=2)

    def __init__(self, *args, jurisdiction: Unit, categories: list[str], **kw):
        super().__init__(*args, prefix="s", **kw)
        townships, villages = _places(jurisdiction)
        blank = ("", _("—请选择—"))
        self.fields["township"].choices = [blank, *townships]
        self.fields["village"].choices = [("", _("—不填—")), *villages]
        self.fields["category"].choices = [blank, *((x, x) for x in categories)]
        self.fields["responsible_unit"].choices = [
            ("", _("—不填—")),
            *((str(u.pk), u.name) for u in handling_units(jurisdiction)),
        ]
        self.fields["screened_on"].initial = timezone.localdate()
        self._villages = villages

    def for_bureau(self, unit: Unit) -> None:
        """A bureau records its own line's findings anywhere in the jurisdiction, as their
        responsible unit."""
        self.fields["responsible_unit"].choices = [(str(unit.pk), unit.name)]
        self.fields["responsible_unit"].initial = str(unit.pk)
        self.fields["responsible_unit"].required = True

    def only_within(self, unit: Unit) -> None:
        """A township (or village) records findings located in itself only."""
        keep = {str(u.pk) for u in Unit.objects.filter(path__under=unit.path)}
        keep |= {str(u.pk) for u in unit.ancestors() if u.level == Level.TOWNSHIP}
        self.fields["township"].choices = [
            c for c in self.fields["township"].choices if c[0] == "" or c[0] in keep]
        self.fields["village"].choices = [("", _("—不填—"))] + [
            (group, [v for v in options if v[0] in keep or unit.level == Level.TOWNSHIP])
            for group, options in self._villages
            if group in {name for key, name in self.fields["township"].choices if key}]


def leaders_of(jurisdiction: Unit):
    """Who may own a backlog case: the jurisdiction's leaders (分管、主要领导)."""
    holders = Membership.objects.filter(
        is_active=True,
        unit__path__under=jurisdiction.path,
        role__in=[Role.APPROVER, Role.CHIEF],
    ).values("user")
    return User.objects.filter(is_active=True, pk__in=holders).order_by("username")


class BacklogForm(PlainForm):
    number = text(_("信访件编号"), max_length=60)
    owner_leader = ModelChoice(label=_("包案领导"), queryset=User.objects.none())
    reason = text(_("积案原因"), rows=2)
    plan = text(_("一案一策（化解方案）"), rows=3)
    plan_deadline = date_field(_("化解时限"))

    def __init__(self, *args, jurisdiction: Unit, **kw):
        super().__init__(*args, prefix="b", **kw)
        self.fields["owner_leader"].queryset = leaders_of(jurisdiction)
        self.fields["owner_leader"].empty_label = str(_("—请选择—"))
        self.fields["owner_leader"].label_from_instance = lambda u: u.full_name or u.username


class ProgressForm(PlainForm):
    text = text(_("化解进展"), rows=2, max_length=2000)


class RosterForm(PlainForm):
    unit = UnitChoice(_("单位"))
    leader_name = text(_("分管领导"), max_length=50)
    leader_position = text(_("职务"), max_length=50)
    leader_office_phone = text(_("办公电话"), required=False, max_length=40)
    leader_mobile = text(_("手机号码"), required=False, max_length=20)
    clerk_name = text(_("涉贫信访专干"), max_length=50)
    clerk_office_phone = text(_("专干办公电话"), required=False, max_length=40)
    clerk_mobile = text(_("专干手机号码"), required=False, max_length=20)

    FIELDS = (
        "leader_name", "leader_position", "leader_office_phone", "leader_mobile", "clerk_name",
        "clerk_office_phone", "clerk_mobile",
    )  # fmt: skip

    def __init__(self, *args, units, **kw):
        super().__init__(*args, prefix="r", **kw)
        self.fields["unit"].choices = [
            ("", _("—请选择—")),
            *((str(u.pk), u.name) for u in units),
        ]


class TriState(forms.TypedChoiceField):
    """是 / 否 / 未填 (a 三到位一处理 or 是否稳定 cell): True, False or None."""

    def __init__(self, label):
        super().__init__(label=label, required=False, empty_value=None,
                         choices=[("", _("—未填—")), ("yes", _("是")), ("no", _("否"))],
                         coerce=lambda v: {"yes": True, "no": False}.get(v))

    def prepare_value(self, value):
        return {True: "yes", False: "no"}.get(value, "")


class KeepForm(PlainForm):
    """The columns the keeper of a register line updates as the matter is dealt with."""

    solved = TriState(_("诉求合理的是否解决到位"))
    guided = TriState(_("诉求无理的是否思想引导到位"))
    assisted = TriState(_("生活困难的是否帮扶救助到位"))
    dealt_by_law = TriState(_("行为违法的是否依法处理"))
    stable = TriState(_("是否稳定"))
    note = text(_("备注"), required=False, rows=2, max_length=2000)

    FIELDS = ("solved", "guided", "assisted", "dealt_by_law", "stable", "note")

    def __init__(self, *args, **kw):
        super().__init__(*args, prefix="k", **kw)


class ResolveForm(PlainForm):
    outcome = text(_("化解结果"), rows=3, max_length=2000)
    stable = TriState(_("是否稳定"))

    def __init__(self, *args, **kw):
        super().__init__(*args, prefix="v", **kw)
