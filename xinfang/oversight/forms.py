from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.org.models import Unit
from xinfang.web.forms.common import ModelChoice

DATE = forms.DateInput(attrs={"type": "date"})


class OrderForm(forms.Form):
    unit = ModelChoice(Unit.objects.none(), label=_("督办对象"), required=False,
                       help_text=_("对信访件督办时可不选，默认为主办单位"))
    matter = forms.CharField(label=_("督办事项及要求"), widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_("答复时限"), widget=DATE)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.none()


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("办理情况"), widget=forms.Textarea(attrs={"rows": 3}))


class BulletinForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120)
    period_start = forms.DateField(label=_("起始日期"), widget=DATE)
    period_end = forms.DateField(label=_("截止日期"), widget=DATE)
    summary = forms.CharField(label=_("通报内容"), widget=forms.Textarea(attrs={"rows": 4}))


class VerifyForm(forms.Form):
    method = forms.ChoiceField(label=_("核查方式"))
    opinion = forms.CharField(label=_("核查意见"), widget=forms.Textarea(attrs={"rows": 3}))
    confirmed = forms.TypedChoiceField(
        label=_("核查结论"), coerce=lambda v: v == "1",
        choices=[("1", _("核查属实，同意办理结果")), ("0", _("核查不实，退回重办"))])

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = methods


class ReviewForm(forms.Form):
    """One pass/fail choice and a remark per point of the profile's review."""

    rectify_by = forms.DateField(label=_("整改时限"), widget=DATE, required=False,
                                 help_text=_("有未通过的要点时必填"))

    def __init__(self, *args, points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.points = points
        for p in points:
            self.fields[f"point_{p.name}"] = forms.ChoiceField(
                label=p.label, choices=[("ok", _("通过")), ("fail", _("未通过"))],
                widget=forms.RadioSelect, initial="ok")
            self.fields[f"remark_{p.name}"] = forms.CharField(
                label=_("存在问题"), required=False, max_length=300)
        self.order_fields([*(f for p in points for f in (f"point_{p.name}",
                                                          f"remark_{p.name}")), "rectify_by"])

    def results(self) -> dict:
        d = self.cleaned_data
        return {p.name: (d[f"point_{p.name}"] == "ok", d.get(f"remark_{p.name}") or "")
                for p in self.points}


class ProxyForm(forms.Form):
    agent = forms.ChoiceField(label=_("代办员"))
    helps = forms.MultipleChoiceField(label=_("代办内容（三帮一办）"),
                                      widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("说明"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, agents=(), helps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = agents
        self.fields["helps"].choices = [(h, h) for h in helps]


class StepForm(forms.Form):
    help = forms.ChoiceField(label=_("代办内容"))
    text = forms.CharField(label=_("代办情况"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, helps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["help"].choices = [(h, h) for h in helps]
