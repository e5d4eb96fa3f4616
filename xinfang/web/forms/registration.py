"""接 — the registration form: the case, several petitioners and several demands on one page.

The petitioner rows carry HTMX attributes so that the ID number and phone are checked as they
are typed and earlier cases of the same person are offered; the rows themselves are Django
formsets, grown in the browser by ``static/web/js/site.js``.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c
from xinfang.org.choices import Level
from xinfang.org.models import Unit
from xinfang.security.idcard import validate_id_number, validate_phone

from .common import ModelChoice, PlainForm, choice, datetime_field, flag, text

KINDS = [
    (c.Kind.PETITION, c.Kind.PETITION.label),
    (c.Kind.OPINION_INCIDENT, c.Kind.OPINION_INCIDENT.label),
]


class VillageSelect(forms.Select):
    """Each village names its township (``data-township``), so choosing a village first fills
    the township in the browser (``site.js``) and, without script, on the server."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        unit = getattr(value, "instance", None)
        if unit is not None:
            option["attrs"]["data-township"] = str(unit.parent_id)
        return option


class VillageField(ModelChoice):
    widget = VillageSelect

    def label_from_instance(self, obj):
        # Before a township is chosen every village is offered: say whose it is.
        if getattr(self, "with_township", False) and obj.parent_id:
            return f"{obj.name}（{obj.parent.name}）"
        return obj.name


class RegistrationForm(PlainForm):
    channel = choice(_("信访形式"), c.Channel.choices, initial=c.Channel.VISIT, blank=None)
    kind = choice(_("类型"), KINDS, initial=c.Kind.PETITION, blank=None)
    matter_type = choice(
        _("事项类型"), c.MatterType.choices, initial=c.MatterType.REQUEST, blank=None
    )
    received_at = datetime_field(_("信访时间"))
    headcount = forms.IntegerField(label=_("来访人数"), min_value=1, initial=1)
    matter = text(_("信访事项"), rows=4, help_text=_("反映的主要问题，一两句话概括。"))
    township = ModelChoice(
        label=_("问题属地（乡镇）"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("—请选择—"),
    )
    village = VillageField(
        label=_("问题属地（村、社区）"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("—请选择（可先选村）—"),
    )
    source_level = choice(
        _("交办层级"), c.SourceLevel.choices, initial=c.SourceLevel.NONE, blank=None
    )
    source_office = text(_("交办机关"), required=False, max_length=100)
    source_reference = text(_("交办文号"), required=False, max_length=100)
    leader_instruction = text(_("领导批示"), required=False, rows=2)
    leader_instruction_level = choice(
        _("批示领导层级"),
        [x for x in c.SourceLevel.choices if x[0] != c.SourceLevel.NONE],
        required=False,
        blank=_("无批示"),
    )
    key_case = flag(_("重点信访件"))
    level_skipping = flag(_("越级访"))
    extreme_behaviour = flag(_("有极端信访行为"))
    confidential = flag(
        _("信访人要求保密"),
        help_text=_(
            "承办单位不能查看本件信访人的身份信息；此后这些信访人的任何信访件"
            "（合并、复查、再次来访）亦然。"
        ),
    )
    concerns_misconduct = flag(_("反映干部违纪违法"))
    concerns_policy = flag(_("政策或行业问题"))
    concerns_execution = flag(_("片区执行问题"))

    def __init__(self, data=None, *, jurisdiction: Unit, now: datetime, **kw):
        super().__init__(data, **kw)
        self.fields["received_at"].initial = timezone.localtime(now).replace(
            second=0, microsecond=0
        )
        townships = Unit.objects.filter(
            path__under=jurisdiction.path, level=Level.TOWNSHIP, is_active=True
        ).order_by("path")
        self.fields["township"].queryset = townships
        self.fields["township"].widget.attrs.update(
            {
                "hx-get": reverse("web:register_villages"),
                "hx-target": "#id_village",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        chosen = (data or {}).get("township") if data is not None else None
        villages = Unit.objects.filter(level=Level.VILLAGE, is_active=True)
        if chosen and str(chosen).isdigit() and townships.filter(pk=chosen).exists():
            self.fields["village"].queryset = villages.filter(parent_id=chosen)
            self.fields["village"].empty_label = _("—请选择—")  # the township is chosen
        else:
            # No township yet: every village of the jurisdiction, the township filled from it.
            self.fields["village"].queryset = villages.filter(
                path__under=jurisdiction.path).select_related("parent").order_by("path")
            self.fields["village"].with_township = True
        self.fields["village"].widget.attrs["data-fills-township"] = "id_township"

    def clean(self):
        data = super().clean()
        village = data.get("village")
        if village is not None and data.get("township") is None:
            data["township"] = village.parent
        return data


class PetitionerForm(PlainForm):
    name = text(_("姓名"), max_length=50)
    role = choice(_("身份"), c.PetitionerRole.choices, initial=c.PetitionerRole.MAIN, blank=None)
    gender = choice(_("性别"), c.Gender.choices, required=False, blank=None)
    birth_year = forms.IntegerField(
        label=_("出生年份"), required=False, min_value=1900, max_value=2100
    )
    id_number = text(_("身份证号"), required=False, max_length=30)
    phone = text(_("联系电话"), required=False, max_length=30)
    address = text(_("住址"), required=False, max_length=200)
    exited_household = flag(_("脱贫户"))
    monitored_household = flag(_("监测对象"))
    confidential = flag(
        _("此人要求保密"),
        help_text=_("承办单位在此人的任何信访件中都不能查看其身份信息。"),
    )
    # The petitioner record of an earlier case the clerk said is this same person.
    link = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.prefix
        check = reverse("web:register_check_petitioner")
        self.fields["name"].widget.attrs.update(
            {
                "hx-post": check,
                "hx-trigger": "input changed delay:700ms, change",
                "hx-params": f"{p}-name,{p}-id_number,{p}-phone",
                "hx-swap": "none",
                "autocomplete": "off",
            }
        )
        self.fields["id_number"].widget.attrs.update(
            {
                "hx-post": check,
                "hx-trigger": "input changed delay:500ms, change",
                "hx-params": f"{p}-name,{p}-id_number,{p}-phone",
                "hx-swap": "none",
                "autocomplete": "off",
                "aria-describedby": f"{p}-id-check id_{p}-id_number_error",
            }
        )
        self.fields["phone"].widget.attrs.update(
            {
                "hx-post": reverse("web:register_check_phone"),
                "hx-trigger": "input changed delay:500ms, change",
                "hx-params": f"{p}-name,{p}-id_number,{p}-phone",
                "hx-target": f"#{p}-phone-check",
                "hx-swap": "innerHTML",
                "autocomplete": "off",
                "inputmode": "tel",
                "aria-describedby": f"{p}-phone-check id_{p}-phone_error",
            }
        )

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if not value.strip():
            return ""
        try:
            return validate_id_number(value)
        except ValueError as e:
            raise forms.ValidationError(str(e)) from None

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        if not value.strip():
            return ""
        try:
            return validate_phone(value)
        except ValueError as e:
            raise forms.ValidationError(str(e)) from None


class DemandForm(PlainForm):
    text = text(_("诉求内容"), rows=2)
    category = forms.ChoiceField(label=_("问题类别"))

    def __init__(self, *args, categories: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("—请选择—"))] + [(x, x) for x in categories]


class RespondentForm(PlainForm):
    name = text(_("被反映人（单位）"), max_length=100)
    position = text(_("职务"), required=False, max_length=100)
    unit = ModelChoice(
        label=_("所在单位"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("—不确定—"),
        help_text=_("所选单位及其下属单位将看不到本件。"),
    )

    def __init__(self, *args, jurisdiction: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if jurisdiction is not None:
            self.fields["unit"].queryset = Unit.objects.filter(
                path__under=jurisdiction.path, is_active=True
            ).order_by("path")


class _PeopleFormSet(forms.BaseFormSet):
    # Django's own wording ("请至少提交 1 个表单") speaks of forms, not of people.
    default_error_messages = {"too_few_forms": _("至少登记一名信访人或代表。")}


class _DemandFormSet(forms.BaseFormSet):
    default_error_messages = {"too_few_forms": _("至少登记一项诉求。")}


PetitionerFormSet = forms.formset_factory(
    PetitionerForm, formset=_PeopleFormSet, extra=0, min_num=1, validate_min=True,
    can_delete=True,
)
DemandFormSet = forms.formset_factory(
    DemandForm, formset=_DemandFormSet, extra=0, min_num=1, validate_min=True, can_delete=True
)
RespondentFormSet = forms.formset_factory(RespondentForm, extra=0, can_delete=True)
