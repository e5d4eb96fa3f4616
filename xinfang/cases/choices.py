from functools import cache

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


@cache
def _labels(choices: type[models.Choices], language: str | None) -> dict[str, str]:
    return {member.value: str(member.label) for member in choices}


def label_of(choices: type[models.Choices], value, language: str | None = None) -> str:
    """What ``get_FOO_display`` says of ``value`` (its label, or the value itself when it names
    no choice) — without Django's way of hashing every lazy label of the field on each call,
    which the case page (each transition's refusal) and a list of fifty cases paid per row. The
    labels are translated once per language, not on each call; a list asks the request's
    language once (``language``) rather than per row (1.2 µs through its thread-local)."""
    label = _labels(choices, language or get_language()).get(value)
    return label if label is not None else str(value)


class State(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    DECLINED = "declined", _("不予受理（已引导）")
    PROPOSED = "proposed", _("待审签")
    AWAITING_COUNTERSIGN = "awaiting_countersign", _("待主要领导签批")
    SIGNED_OFF = "signed_off", _("待交办")
    ASSIGNED = "assigned", _("待签收")
    IN_PROGRESS = "in_progress", _("办理中")
    EXTENSION_REQUESTED = "extension_requested", _("延期待批")
    LETTER_DRAFTED = "letter_drafted", _("意见书待审批")
    LETTER_APPROVED = "letter_approved", _("意见书待出具")
    LETTER_ISSUED = "letter_issued", _("待送达")
    DELIVERED = "delivered", _("已送达")
    CLOSED = "closed", _("已销号")
    ARCHIVED = "archived", _("已归档")
    MERGED = "merged", _("已合并")


OPEN_STATES = {
    State.REGISTERED, State.PROPOSED, State.AWAITING_COUNTERSIGN, State.SIGNED_OFF, State.ASSIGNED,
    State.IN_PROGRESS, State.EXTENSION_REQUESTED, State.LETTER_DRAFTED, State.LETTER_APPROVED,
    State.LETTER_ISSUED, State.DELIVERED,
}
# The states whose deadlines have all ended and which wait to be archived (the clerk's 待归档),
# in the order the work queue's bucket and its partial index (``case_ended_idx``) write them:
# SQLite uses a partial index only for a term written as the index's own.
ENDED_STATES = (State.CLOSED, State.DECLINED, State.MERGED)


class Kind(models.TextChoices):
    PETITION = "petition", _("信访件")
    OPINION_INCIDENT = "opinion_incident", _("网络舆情")
    REVIEW = "review", _("复查")
    REREVIEW = "rereview", _("复核")


class Channel(models.TextChoices):
    LETTER = "letter", _("来信")
    VISIT = "visit", _("来访")
    PHONE = "phone", _("来电")
    ONLINE = "online", _("网上信访")
    REFERRAL = "referral", _("上级交办")
    SCREENING = "screening", _("排查发现")
    MEDIA = "media", _("网络舆情")


class SourceLevel(models.TextChoices):
    NONE = "none", _("本级受理")
    VILLAGE = "village", _("村")
    TOWNSHIP = "township", _("乡镇")
    COUNTY = "county", _("县（区）")
    CITY = "city", _("市")
    PROVINCE = "province", _("省")
    CENTRAL = "central", _("中央")


class MatterType(models.TextChoices):
    SUGGESTION = "suggestion", _("建议意见类")
    ACCUSATION = "accusation", _("检举控告类")
    REQUEST = "request", _("申诉求决类")


class PetitionerRole(models.TextChoices):
    MAIN = "main", _("信访人")
    COMPANION = "companion", _("随访人")
    REPRESENTATIVE = "representative", _("代表")


# Who petitions: the petitioner, or a representative chosen by a group (national §18 — a
# representative is a petitioner, and may be the only one registered). Companions are not.
PETITIONING_ROLES = (PetitionerRole.MAIN, PetitionerRole.REPRESENTATIVE)


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "", _("未填")


class Finding(models.TextChoices):
    TRUE = "true", _("属实")
    PARTLY = "partly", _("部分属实")
    FALSE = "false", _("不属实")


class ResolutionClass(models.TextChoices):
    """三到位一处理."""

    SOLVED = "solved", _("诉求合理的解决到位")
    EXPLAINED = "explained", _("诉求无理的思想引导到位")
    ASSISTED = "assisted", _("生活困难的帮扶救助到位")
    DEALT_BY_LAW = "dealt_by_law", _("行为违法的依法处理")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("办理中")
    TRANSFERRED = "transferred", _("已移交")
    ENDED = "ended", _("已结束")


class ContactKind(models.TextChoices):
    PHONE = "phone", _("电话联系")
    VISIT = "visit", _("带件下访")
    MEETING = "meeting", _("面对面沟通")
    RETURN_VISIT = "return_visit", _("回访")


class ReportKind(models.TextChoices):
    INITIAL = "initial", _("初步调查报告")
    HANDLING = "handling", _("办理情况报告")
    RESPONSE = "response", _("舆情应对措施报告")
    INVESTIGATION = "investigation", _("调查处理报告")
    CAUSE_ANALYSIS = "cause_analysis", _("未息访原因分析")
    PROGRESS = "progress", _("进展报告")


class DocumentKind(models.TextChoices):
    ACCEPTANCE_NOTICE = "acceptance_notice", _("信访事项受理告知书")
    DECISION_LETTER = "decision_letter", _("信访事项处理意见书")
    DELIVERY_RECEIPT = "delivery_receipt", _("送达回证")
    SATISFACTION_FORM = "satisfaction_form", _("满意度评价表")
    SETTLEMENT_PLEDGE = "settlement_pledge", _("息诉息访书")
    WARNING_NOTICE = "warning_notice", _("信访事项预警提醒单")
    ASSIGNMENT_SHEET = "assignment_sheet", _("交办单")
    SUPERVISION_ORDER = "supervision_order", _("督办单")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已审批")
    ISSUED = "issued", _("已出具")
    SUPERSEDED = "superseded", _("已作废")


class DeliveryMode(models.TextChoices):
    IN_PERSON = "in_person", _("当面送达")
    PHONE = "phone", _("电话告知")
    ONLINE = "online", _("网上答复")
    WRITTEN = "written", _("书面（邮寄）送达")


WRITTEN_MODES = {DeliveryMode.IN_PERSON, DeliveryMode.WRITTEN, DeliveryMode.ONLINE}


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class SignatureStage(models.TextChoices):
    SIGN_OFF = "sign_off", _("审签")
    ASSIGNMENT = "assignment", _("交办签")
    LETTER = "letter", _("意见书审批")
    CLOSING = "closing", _("办结签")
