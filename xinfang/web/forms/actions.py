"""One small form per transition of the workflow table. A form's fields are the keyword arguments
of the transition's effect in ``cases.services.effects`` (``service_params`` names them, and a
test holds the two together); the form only parses — every rule is the service's to check.
"""

from __future__ import annotations

import re
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.numbering import cases_numbered
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import propose_units
from xinfang.cases.services.routing import NEVER_ASSISTING
from xinfang.db.fixed import TreeRead
from xinfang.org.choices import Level, Role, UnitKind
from xinfang.org.models import Membership, Unit, User
from xinfang.rules.store import profile_of

from .common import ModelChoice, PlainForm, choice, date_field, datetime_field, flag, text


class ActionForm(PlainForm):
    name = ""
    service_params: tuple[str, ...] = ()
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, case: Case, membership: Membership, now: datetime, **kw):
        super().__init__(data, prefix=self.name, **kw)
        self.case, self.membership, self.now = case, membership, now
        self.fields["version"].initial = case.version
        self.setup()

    def setup(self) -> None:
        """Fill choices and initial values that depend on the case."""

    def params(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.service_params if k in self.cleaned_data}

    def field_for(self, key: str | None) -> str | None:
        """The form field a service error key names, or None for a form-wide error."""
        return key if key in self.fields and key != "version" else None

    @property
    def has_inputs(self) -> bool:
        return any(not f.is_hidden for f in self)

    def local_now(self) -> datetime:
        return timezone.localtime(self.now).replace(second=0, microsecond=0)


def _units_in(case: Case):
    """Units a case may be sent to: inside its jurisdiction, above village level (the service
    still checks every constraint and respondent rule)."""
    return _units_under(case.jurisdiction.path, case.jurisdiction_id)


def _units_under(path: str, office: int):
    return (
        Unit.objects.filter(path__under=path, is_active=True)
        .exclude(pk=office)
        .exclude(level=Level.VILLAGE)
        .order_by("path")
    )


def _discipline_units(path: str, office: int):
    """The discipline offices a case of ``office`` (at ``path``) may be transferred to."""
    return _units_under(path, office).filter(kind=UnitKind.DISCIPLINE)


# ``_discipline_units`` compiled once a jurisdiction (``db.fixed.TreeRead``): every case page
# offering the transfer read them through a queryset, whose building and rows cost more than
# the statement.
_DISCIPLINE_UNITS = TreeRead(Unit, _discipline_units)


# 接 ---------------------------------------------------------------------------------------------


class DeclineForm(ActionForm):
    name, service_params = "decline", ("reason", "guidance")
    reason = text(_("不予受理理由"), rows=3)
    guidance = text(_("引导去向"), rows=2, help_text=_("告知信访人向何机关、通过何途径提出。"))


class MergeForm(ActionForm):
    name, service_params = "merge", ("into", "note")
    pick = forms.ChoiceField(label=_("合并至"), required=False)
    into = text(
        _("或填写信访件编号"),
        required=False,
        help_text=_("括号写法、“号”字均可省略；本年度的信访件可只填序号。"),
    )
    note = text(_("说明"), required=False, rows=2)

    def setup(self):
        self.scope = cases_for(self.membership)
        candidates = (
            self.scope.filter(jurisdiction=self.case.jurisdiction)
            .exclude(pk=self.case.pk)
            .exclude(state=c.State.MERGED)
        )
        people = self.case.petitioner_links.values("petitioner")
        self.suggestions = list(
            candidates.filter(petitioner_links__petitioner__in=people)
            .distinct()
            .order_by("-received_at")[:20]
        )
        self.fields["pick"].choices = [("", _("（同一信访人的其他信访件）"))] + [
            (str(s.pk), f"{s.number}　{s.matter[:30]}") for s in self.suggestions
        ]

    def clean(self):
        data = super().clean()
        picked, typed = data.get("pick"), (data.get("into") or "").strip()
        if picked:
            data["into"] = next(s for s in self.suggestions if str(s.pk) == picked)
        elif typed:
            found = [f for f in cases_numbered(typed, scope=self.scope) if f.pk != self.case.pk]
            if not found:
                self.add_error("into", forms.ValidationError(
                    _("没有找到编号为“%(n)s”的信访件（或您无权查看）。"), params={"n": typed}
                ))
            elif len(found) > 1:
                self.add_error("into", forms.ValidationError(
                    _("“%(n)s”对应多件信访件，请填写完整编号，如 %(a)s。"),
                    params={"n": typed, "a": found[0].number},
                ))
            else:
                data["into"] = found[0]
        else:
            self.add_error("pick", _("请选择或填写要合并至的信访件。"))
        return data


# 转 ---------------------------------------------------------------------------------------------


class ProposeForm(ActionForm):
    name, service_params = "propose", ("proposal",)
    proposal = text(_("处置建议"), rows=4, help_text=_("拟交办的主办、协办单位，办理要求和时限。"))


class NoteForm(ActionForm):
    service_params = ("note",)
    note = text(_("签署意见"), required=False, rows=2)


class SignOffForm(NoteForm):
    name = "sign_off"


class CountersignForm(NoteForm):
    name = "countersign"


class ReasonForm(ActionForm):
    service_params = ("reason",)
    reason = text(_("理由"), rows=3)


class ReturnProposalForm(ReasonForm):
    name = "return_proposal"


class AssignForm(ActionForm):
    name = "assign"
    service_params = ("lead", "assisting", "receiver_name", "responsible_person")
    lead = forms.ChoiceField(label=_("主办单位"))
    assisting = forms.MultipleChoiceField(
        label=_("协办单位"), required=False, widget=forms.CheckboxSelectMultiple
    )
    receiver_name = text(_("接收人"), max_length=50)
    responsible_person = text(_("责任人"), required=False, max_length=50)

    def setup(self):
        units = list(_units_in(self.case))
        self.units = {str(u.pk): u for u in units}
        self.proposals = propose_units(case=self.case, profile=profile_of(self.case.profile))
        proposed, bureaus = [], []
        for p in self.proposals:
            proposed += [u for u in p["lead"] if str(u.pk) in self.units and u not in proposed]
            bureaus += [u for u in p.get("bureaus", []) if u not in bureaus]
        # The township of the locality first, then the line bureau of the category (issue 15).
        proposed += [u for u in bureaus if str(u.pk) in self.units and u not in proposed]
        rest = [(str(u.pk), u.name) for u in units if u not in proposed]
        groups = [("", _("—请选择—"))]
        if proposed:
            groups.append((_("规则建议"), [(str(u.pk), u.name) for u in proposed]))
        groups.append((_("其他单位") if proposed else _("辖区单位"), rest))
        self.fields["lead"].choices = groups
        self.fields["assisting"].choices = [
            (str(u.pk), u.name) for u in units if u.kind not in NEVER_ASSISTING
        ]
        if proposed:
            self.fields["lead"].initial = str(proposed[0].pk)
            self.fields["assisting"].initial = [
                str(u.pk) for u in bureaus if u != proposed[0] and str(u.pk) in self.units]

    def clean_lead(self):
        return self.units[self.cleaned_data["lead"]]

    def clean_assisting(self):
        return [self.units[pk] for pk in self.cleaned_data["assisting"]]


class TransferToDisciplineForm(ActionForm):
    name = "transfer_to_discipline"
    service_params = ("unit", "reason", "receiver_name")
    unit = ModelChoice(label=_("纪检监察机关"), queryset=Unit.objects.none())
    reason = text(_("移送理由"), rows=3)
    receiver_name = text(_("接收人"), max_length=50)

    def setup(self):
        field = self.fields["unit"]
        jurisdiction = self.case.jurisdiction
        # The select's rows (a county's one or two) read by the kept statement of the filter.
        # A posted choice is checked against the filter itself; the form a case page offers
        # is never validated, and building the filter through the ORM for it was half the
        # form's cost on every case page (0.45 ms at 1M cases; lead49).
        field.queryset = (_discipline_units(jurisdiction.path, jurisdiction.pk) if self.is_bound
                          else Unit.objects.none())
        units = field.queryset._result_cache = _DISCIPLINE_UNITS(jurisdiction.path,
                                                                 jurisdiction.pk)
        if len(units) == 1:
            field.initial = units[0].pk


class ReassignForm(ActionForm):
    """改派: the units of the case's jurisdiction as on the assign form, less the lead handling
    it now; its assisting units ticked, to keep or untick. The rules' proposals are the assign
    form's: a reassignment is a correction the office decides."""

    name = "reassign"
    service_params = ("lead", "assisting", "reason", "receiver_name", "responsible_person")
    lead = forms.ChoiceField(label=_("改派主办单位"))
    assisting = forms.MultipleChoiceField(
        label=_("协办单位"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = text(_("改派理由"), rows=3, help_text=_("如：交办单位有误；乡镇撤并，工作移交。"))
    receiver_name = text(_("接收人"), max_length=50)
    responsible_person = text(_("责任人"), required=False, max_length=50)

    def setup(self):
        units = list(_units_in(self.case))
        self.units = {str(u.pk): u for u in units}
        # the page read the case's assignments already (``PAGE_RELATIONS``)
        held = [(a.unit_id, a.role) for a in self.case.assignments.all()
                if a.status == c.AssignmentStatus.ACTIVE]
        leads = {str(pk) for pk, role in held if role == c.AssignmentRole.LEAD}
        self.fields["lead"].choices = [("", _("—请选择—"))] + [
            (str(u.pk), u.name) for u in units if str(u.pk) not in leads]
        self.fields["assisting"].choices = [
            (str(u.pk), u.name) for u in units if u.kind not in NEVER_ASSISTING
        ]
        self.fields["assisting"].initial = [
            str(pk) for pk, role in held if role == c.AssignmentRole.ASSIST]

    def clean_lead(self):
        return self.units[self.cleaned_data["lead"]]

    def clean_assisting(self):
        return [self.units[pk] for pk in self.cleaned_data["assisting"]]


# 办 ---------------------------------------------------------------------------------------------


class SignForForm(ActionForm):
    # When the unit signed for the case, where a paper slip records it (issue 16): never before
    # the hand-over, never in the future; blank is now.
    name, service_params = "sign_for", ("signed_for_at",)
    # Blank by default: a minute-rounded "now" would fall before a hand-over made this minute.
    signed_for_at = datetime_field(_("签收时间"), required=False,
                                   help_text=_("按纸质签收单补录时填写；不填则为现在。"))


class LogContactForm(ActionForm):
    name, service_params = "log_contact", ("kind", "note", "contacted_at")
    kind = choice(_("联系方式"), c.ContactKind.choices)
    contacted_at = datetime_field(_("联系时间"), required=False, help_text=_("不填则为现在。"))
    note = text(_("联系情况"), required=False, rows=2)

    def setup(self):
        self.fields["contacted_at"].initial = self.local_now()


class DeliverAcceptanceNoticeForm(ActionForm):
    name = "deliver_acceptance_notice"
    service_params = (
        "mode",
        "deliverer",
        "recipient",
        "receipt_signed",
        "promised_reply",
        "delivered_at",
    )
    mode = choice(_("送达方式"), c.DeliveryMode.choices)
    delivered_at = datetime_field(_("送达时间"), required=False)
    deliverer = text(_("送达人"), max_length=50)
    recipient = text(_("受送达人"), max_length=50)
    receipt_signed = flag(_("信访人已签收"), initial=True)
    promised_reply = date_field(_("承诺答复日期"), required=False)

    def setup(self):
        self.fields["delivered_at"].initial = self.local_now()
        self.fields["deliverer"].initial = self.membership.user.full_name


class NotifyOfficesForm(ActionForm):
    name, service_params = "notify_offices", ("offices", "note")
    offices = text(_("通报部门"), help_text=_("如：区委宣传部、区网信办"))
    note = text(_("说明"), required=False, rows=2)


class SubmitReportForm(ActionForm):
    name, service_params = "submit_report", ("kind", "text")
    kind = choice(_("报告类型"), c.ReportKind.choices)
    text = text(_("报告内容"), rows=5)


class RecordFindingForm(ActionForm):
    """One row per demand: finding, resolution class (三到位一处理), note. Rows left without a
    finding are not sent."""

    name, service_params = "record_finding", ("findings",)

    def setup(self):
        self.demands = list(self.case.demands.all())
        for d in self.demands:
            self.fields[f"finding_{d.seq}"] = choice(
                _("核查结论"), c.Finding.choices, required=False, initial=d.finding or None
            )
            self.fields[f"resolution_{d.seq}"] = choice(
                _("三到位一处理"),
                c.ResolutionClass.choices,
                required=False,
                initial=d.resolution_class or None,
            )
            self.fields[f"note_{d.seq}"] = text(
                _("核查情况"), required=False, rows=2, initial=d.finding_note
            )

    def rows(self):
        return [
            (d, self[f"finding_{d.seq}"], self[f"resolution_{d.seq}"], self[f"note_{d.seq}"])
            for d in self.demands
        ]

    def clean(self):
        data = super().clean()
        if not any(data.get(f"finding_{d.seq}") for d in self.demands):
            raise forms.ValidationError(_("请至少对一项诉求作出核查结论。"))
        return data

    def params(self):
        d = self.cleaned_data
        return {
            "findings": {
                x.seq: (d[f"finding_{x.seq}"], d[f"resolution_{x.seq}"], d[f"note_{x.seq}"])
                for x in self.demands
                if d.get(f"finding_{x.seq}")
            }
        }

    def field_for(self, key):
        m = re.fullmatch(r"findings\[(\d+)\](?:\.(\w+))?", key or "")
        if m and m.group(2):
            name = {"finding": "finding", "resolution_class": "resolution"}.get(m.group(2))
            if name and f"{name}_{m.group(1)}" in self.fields:
                return f"{name}_{m.group(1)}"
        return None


class RequestExtensionForm(ActionForm):
    name = "request_extension"
    service_params = ("reason", "progress_report", "expected_completion")
    reason = text(_("延期理由"), rows=2)
    progress_report = text(_("办理进度"), rows=3)
    expected_completion = date_field(_("预计办结日期"))


class ApproveExtensionForm(NoteForm):
    name = "approve_extension"


class RefuseExtensionForm(ActionForm):
    name, service_params = "refuse_extension", ("note",)
    note = text(_("不予延期的意见"), rows=2)


# 回 ---------------------------------------------------------------------------------------------


class DraftLetterForm(ActionForm):
    name, service_params = "draft_letter", ("body", "review_body")
    body = text(_("处理意见"), rows=8)
    review_body = text(
        _("复查告知"), rows=2, help_text=_("告知信访人申请复查的期限和机关（默认取本地规则配置）。")
    )

    def setup(self) -> None:
        # Issue 10: the letter starts from the findings per demand and the profile's review
        # notice; the unit edits both.
        from xinfang.documents.fill import letter_prefill, review_notice

        self.fields["body"].initial = letter_prefill(self.case)
        self.fields["review_body"].initial = review_notice(self.case)


class ReturnLetterForm(ReasonForm):
    name = "return_letter"


class ApproveLetterForm(NoteForm):
    name = "approve_letter"


class IssueLetterForm(ActionForm):
    name = "issue_letter"


class RecordDeliveryForm(ActionForm):
    name = "record_delivery"
    service_params = (
        "mode",
        "delivered_at",
        "deliverer",
        "recipient",
        "receipt_signed",
        "refused",
        "refusal_reason",
        "witness",
    )
    mode = choice(_("送达方式"), c.DeliveryMode.choices)
    delivered_at = datetime_field(_("送达时间"))
    deliverer = text(_("送达人"), max_length=50)
    recipient = text(_("受送达人"), max_length=50)
    receipt_signed = flag(_("信访人已在送达回证上签收"))
    refused = flag(_("信访人拒收"))
    refusal_reason = text(_("拒收理由"), required=False, rows=2)
    witness = text(_("见证人"), required=False, max_length=50)

    def setup(self):
        self.fields["delivered_at"].initial = self.local_now()
        self.fields["deliverer"].initial = self.membership.user.full_name


class RecordRatingForm(ActionForm):
    name, service_params = "record_rating", ("rating", "reason")
    rating = choice(_("满意度"), c.Rating.choices)
    reason = text(_("评价理由"), required=False, rows=2)


class RecordPledgeForm(ActionForm):
    name, service_params = "record_pledge", ("text", "signed_on")
    text = text(_("息诉息访书内容"), required=False, rows=3)
    signed_on = date_field(_("签署日期"), required=False)


# 交 ---------------------------------------------------------------------------------------------

REPORT_CONTENTS = [
    ("处理意见书", _("处理意见书")),
    ("调查报告", _("调查报告")),
    ("佐证材料", _("佐证材料")),
]


class ReportBackForm(ActionForm):
    name, service_params = "report_back", ("note", "contents")
    contents = forms.MultipleChoiceField(
        label=_("报送材料"),
        choices=REPORT_CONTENTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[v for v, _label in REPORT_CONTENTS],
    )
    note = text(_("说明"), required=False, rows=2)


# 督 ---------------------------------------------------------------------------------------------


class CloseForm(NoteForm):
    name = "close"


class ArchiveForm(ActionForm):
    name = "archive"


class OpenReviewForm(ActionForm):
    """The acting clerk of the office one level up registers the review case as themself."""

    name, service_params = "open_review", ("received_at", "reason", "clerk")
    received_at = datetime_field(_("收到复查（复核）申请时间"))
    reason = text(_("申请理由"), rows=3)

    def setup(self):
        self.fields["received_at"].initial = self.local_now()

    def params(self):
        return {**super().params(), "clerk": self.membership}


class ReopenForm(ReasonForm):
    name = "reopen"


class AnswerWarningForm(ActionForm):
    name, service_params = "answer_warning", ("rule", "cause", "measures")
    rule = forms.ChoiceField(label=_("预警提醒单"))
    cause = text(_("原因分析"), rows=3)
    measures = text(_("化解稳控措施"), rows=3)

    def setup(self):
        notices = self.case.warning_notices.filter(answered_at=None).order_by("issued_at")
        self.fields["rule"].choices = [(n.rule, "、".join(n.reasons) or n.rule) for n in notices]


class SetLeaderOwnerForm(ActionForm):
    name, service_params = "set_leader_owner", ("leader",)
    leader = ModelChoice(label=_("包案领导"), queryset=User.objects.none())

    def setup(self):
        self.fields["leader"].queryset = (
            User.objects.filter(
                memberships__unit__path__under=self.case.jurisdiction.path,
                memberships__role__in=[Role.APPROVER, Role.CHIEF],
                memberships__is_active=True,
            )
            .distinct()
            .order_by("pk")
        )
        self.fields["leader"].label_from_instance = lambda u: " ".join(
            x for x in (u.full_name or u.username, u.position) if x
        )


ACTION_FORMS: dict[str, type[ActionForm]] = {
    cls.name: cls
    for cls in [
        DeclineForm,
        MergeForm,
        ProposeForm,
        SignOffForm,
        CountersignForm,
        ReturnProposalForm,
        AssignForm,
        TransferToDisciplineForm,
        ReassignForm,
        SignForForm,
        LogContactForm,
        DeliverAcceptanceNoticeForm,
        NotifyOfficesForm,
        SubmitReportForm,
        RecordFindingForm,
        RequestExtensionForm,
        ApproveExtensionForm,
        RefuseExtensionForm,
        DraftLetterForm,
        ReturnLetterForm,
        ApproveLetterForm,
        IssueLetterForm,
        RecordDeliveryForm,
        RecordRatingForm,
        RecordPledgeForm,
        ReportBackForm,
        CloseForm,
        ArchiveForm,
        OpenReviewForm,
        ReopenForm,
        AnswerWarningForm,
        SetLeaderOwnerForm,
    ]
}


def action_form(
    name: str, *, case: Case, membership: Membership, now: datetime, data=None
) -> ActionForm:
    return ACTION_FORMS[name](data, case=case, membership=membership, now=now)
