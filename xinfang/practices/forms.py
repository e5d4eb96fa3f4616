"""The practices' forms: they parse; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c

from .models import PersuadeReturn, ReturnVisit, WatchEntry
from .rules import WEEKDAYS
from .services.persuade import MEMBER_LABELS

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
D = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def numbers(text: str) -> list[str]:
    return [
        n.strip()
        for n in (text or "").replace("，", ",").replace("、", ",").split(",")
        if n.strip()
    ]


class ReturnVisitForm(forms.Form):
    case = forms.ChoiceField(label=_("信访件"))
    visited_at = forms.DateTimeField(label=_("回访时间"), widget=DT, input_formats=DT_FORMATS)
    method = forms.ChoiceField(label=_("回访方式"), choices=ReturnVisit.Method.choices)
    outcome = forms.ChoiceField(label=_("回访结果"), choices=ReturnVisit.Outcome.choices)
    satisfaction = forms.ChoiceField(label=_("满意度"), choices=c.Rating.choices)
    note = forms.CharField(
        label=_("回访情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, owed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [("", "—")] + [(str(o.case.pk), o.case.number) for o in owed]


class MeetingForm(forms.Form):
    rule = forms.ChoiceField(label=_("会议类别"))
    unit = forms.ChoiceField(label=_("召开单位"), required=False)
    held_on = forms.DateField(label=_("召开日期"), widget=D)
    chaired_by = forms.CharField(label=_("主持人"), max_length=50)
    attendees = forms.CharField(label=_("参会人员"), widget=forms.Textarea(attrs={"rows": 2}))
    case_numbers = forms.CharField(
        label=_("研究的信访件编号"), required=False, help_text=_("多个编号以逗号分隔")
    )
    findings = forms.MultipleChoiceField(
        label=_("研究的排查问题"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    discussion = forms.CharField(
        label=_("研判情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(label=_("议定措施"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, rules=(), units=(), findings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [(r.name, r.label) for r in rules]
        if units:
            self.fields["unit"].choices = [("", "本机关")] + [(str(u.pk), u.name) for u in units]
        else:
            del self.fields["unit"]
        self.fields["findings"].choices = [
            (str(f.pk), f"{f.screened_on:%Y-%m-%d} {f.category}：{f.problem[:30]}")
            for f in findings
        ]


class WatchAddForm(forms.Form):
    case_number = forms.CharField(label=_("列管依据信访件编号"))
    petitioner = forms.ChoiceField(label=_("重点人员"), required=False)
    owner = forms.ChoiceField(label=_("稳控责任人"))
    reason = forms.CharField(
        label=_("列管原因"), max_length=200, help_text=_("如：越级访苗头、多次重复访")
    )
    status = forms.ChoiceField(label=_("稳定状态"), choices=WatchEntry.Status.choices)
    plan = forms.CharField(label=_("一人一策稳控方案"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, people=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["petitioner"].choices = [("", "—")] + list(people)
        self.fields["owner"].choices = [("", "—")] + [
            (str(m.pk), f"{m.user.full_name}（{m.unit.name}·{m.get_role_display()}）")
            for m in owners
        ]


class WatchReviewForm(forms.Form):
    status = forms.ChoiceField(label=_("稳定状态"), choices=WatchEntry.Status.choices)
    note = forms.CharField(label=_("复核情况"), widget=forms.Textarea(attrs={"rows": 2}))
    plan = forms.CharField(
        label=_("调整后的方案（不调整可留空）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=300)


class DutyForm(forms.Form):
    weekday = forms.ChoiceField(label=_("星期"))
    leader = forms.ChoiceField(label=_("带班领导"))
    starts_on = forms.DateField(label=_("起始日期"), widget=D)

    def __init__(self, *args, days=(), leaders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weekday"].choices = [(str(d), WEEKDAYS[d]) for d in (days or range(7))]
        self.fields["leader"].choices = [("", "—")] + [
            (str(m.pk), f"{m.user.full_name}（{m.get_role_display()}）") for m in leaders
        ]


class FieldVisitForm(forms.Form):
    village = forms.ChoiceField(label=_("下访村（社区）"))
    visited_on = forms.DateField(label=_("下访日期"), widget=D)
    case_numbers = forms.CharField(
        label=_("带件（信访件编号）"), required=False, help_text=_("多个编号以逗号分隔")
    )
    note = forms.CharField(label=_("下访情况"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "—")] + [(str(v.pk), v.name) for v in villages]


class PersuadeForm(forms.Form):
    case_number = forms.CharField(label=_("信访件编号"))
    level = forms.ChoiceField(label=_("上访层级"), choices=PersuadeReturn.Level.choices)
    place = forms.CharField(label=_("上访地点"), max_length=100)
    reported_at = forms.DateTimeField(label=_("接报时间"), widget=DT, input_formats=DT_FORMATS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role, label in MEMBER_LABELS.items():
            self.fields[f"m_{role}"] = forms.CharField(
                label=label, required=False, max_length=50, help_text=_("姓名")
            )

    def members(self) -> list[dict]:
        return [{"role": r, "name": self.cleaned_data.get(f"m_{r}", "")} for r in MEMBER_LABELS]


class ReturnedForm(forms.Form):
    returned_at = forms.DateTimeField(label=_("劝返回时间"), widget=DT, input_formats=DT_FORMATS)
    note = forms.CharField(
        label=_("劝返情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("跟进措施"), choices=PersuadeReturn.FollowUp.choices)
    at = forms.DateTimeField(label=_("跟进时间"), widget=DT, input_formats=DT_FORMATS)
    note = forms.CharField(label=_("跟进情况"), widget=forms.Textarea(attrs={"rows": 2}))


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("专项活动名称"), max_length=100)
    goals = forms.CharField(label=_("目标任务"), widget=forms.Textarea(attrs={"rows": 3}))
    starts_on = forms.DateField(label=_("开始日期"), widget=D)
    ends_on = forms.DateField(label=_("结束日期"), widget=D)
    units = forms.MultipleChoiceField(
        label=_("责任单位"), widget=forms.SelectMultiple(attrs={"size": 5})
    )
    case_numbers = forms.CharField(
        label=_("纳入的信访件编号"), required=False, help_text=_("多个编号以逗号分隔")
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = [(str(u.pk), u.name) for u in units]


class TaskForm(forms.Form):
    unit = forms.ChoiceField(label=_("责任单位"))
    title = forms.CharField(label=_("任务"), max_length=200)
    due_on = forms.DateField(label=_("完成时限"), widget=D)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(str(u.pk), u.name) for u in units]


class ProgressForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    progress = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    note = forms.CharField(label=_("进展情况"), max_length=500)


class ReportForm(forms.Form):
    summary = forms.CharField(label=_("本期进展报告"), widget=forms.Textarea(attrs={"rows": 3}))
