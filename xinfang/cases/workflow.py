"""The six steps (接、转、办、回、交、督) as one declarative table.

Each row names a transition: the states it may start from, the state it leads to (``None`` when the
case stays where it is), the roles that may take it, and the event key that clocks listen for.
``services.transitions.perform`` is the only code that executes a row; what each row needs to be
present is checked by its effect function before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from xinfang.org.choices import Role

from .choices import OPEN_STATES, State

R = Role
S = State
HANDLERS = frozenset({R.UNIT_HANDLER, R.PROXY_AGENT, R.LINE_HEAD, R.DISCIPLINE})
OFFICE = frozenset({R.CLERK, R.APPROVER, R.CHIEF})
HANDLING = frozenset({S.IN_PROGRESS, S.EXTENSION_REQUESTED})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    event: str
    # "office": the acting unit must be the case's jurisdiction (its petition office);
    # "assigned": the acting unit must hold an active assignment; "either": one of the two.
    scope: str = "office"
    step: str = ""


def _t(name, label, sources, target, roles, event=None, scope="office", step=""):
    return Transition(
        name, str(label), frozenset(sources), target, frozenset(roles), event or name, scope, step
    )


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        # 接 — register
        _t(
            "decline",
            _("不予受理并引导"),
            {S.REGISTERED},
            S.DECLINED,
            {R.CLERK},
            "declined",
            step="接",
        ),
        _t(
            "merge",
            _("合并重复登记"),
            {S.REGISTERED, S.PROPOSED},
            S.MERGED,
            {R.CLERK},
            "merged",
            step="接",
        ),
        # 转 — propose, sign off, assign
        _t(
            "propose",
            _("拟办（处置建议）"),
            {S.REGISTERED},
            S.PROPOSED,
            {R.CLERK},
            "proposed",
            step="转",
        ),
        _t(
            "sign_off",
            _("审签"),
            {S.PROPOSED},
            S.SIGNED_OFF,
            {R.APPROVER, R.CHIEF},
            "signed_off",
            step="转",
        ),
        _t(
            "countersign",
            _("主要领导签批"),
            {S.AWAITING_COUNTERSIGN},
            S.SIGNED_OFF,
            {R.CHIEF},
            "countersigned",
            step="转",
        ),
        _t(
            "return_proposal",
            _("退回拟办"),
            {S.PROPOSED, S.AWAITING_COUNTERSIGN},
            S.REGISTERED,
            {R.APPROVER, R.CHIEF},
            "proposal_returned",
            step="转",
        ),
        _t(
            "assign",
            _("交办"),
            {S.SIGNED_OFF},
            S.ASSIGNED,
            {R.CLERK, R.APPROVER},
            "assigned",
            step="转",
        ),
        _t(
            "transfer_to_discipline",
            _("移送纪检监察"),
            {S.SIGNED_OFF, S.ASSIGNED, S.IN_PROGRESS},
            S.ASSIGNED,
            {R.CLERK, R.APPROVER},
            "transferred_to_discipline",
            step="转",
        ),
        # A case assigned to the wrong unit, or to a township about to be merged, given to
        # another unit while a unit holds it (改派 / 重新交办); an assisting unit alone changed
        # is heard by the clocks as ``reassigned:assist``, a case past handling (its reply under
        # way) keeps its stage and is heard as ``reassigned:after`` (``services.reassign``).
        _t(
            "reassign",
            _("改派（重新交办）"),
            {S.ASSIGNED, S.IN_PROGRESS, S.EXTENSION_REQUESTED, S.LETTER_DRAFTED,
             S.LETTER_APPROVED, S.LETTER_ISSUED, S.DELIVERED},
            None,
            {R.CLERK, R.APPROVER},
            "reassigned",
            step="转",
        ),
        # 办 — handle
        _t(
            "sign_for",
            _("签收"),
            {S.ASSIGNED, S.IN_PROGRESS},
            None,
            HANDLERS,
            "signed_for",
            scope="assigned",
            step="办",
        ),
        _t(
            "log_contact",
            _("联系信访人"),
            OPEN_STATES,
            None,
            OFFICE | HANDLERS,
            "contact_logged",
            scope="either",
            step="办",
        ),
        _t(
            "deliver_acceptance_notice",
            _("送达受理告知书"),
            {S.SIGNED_OFF, S.ASSIGNED, S.IN_PROGRESS},
            None,
            OFFICE | HANDLERS,
            "acceptance_notice_delivered",
            scope="either",
            step="办",
        ),
        _t(
            "notify_offices",
            _("通报宣传网信部门"),
            OPEN_STATES,
            None,
            OFFICE | HANDLERS,
            "offices_notified",
            scope="either",
            step="办",
        ),
        _t(
            "submit_report",
            _("报送报告"),
            # Office reports come before assignment too (jianan's 24-hour opinion response).
            HANDLING
            | {S.REGISTERED, S.PROPOSED, S.SIGNED_OFF, S.ASSIGNED, S.DELIVERED, S.CLOSED},
            None,
            OFFICE | HANDLERS,
            "report_submitted",
            scope="either",
            step="办",
        ),
        _t(
            "record_finding",
            _("核查认定"),
            HANDLING,
            None,
            HANDLERS,
            "finding_recorded",
            scope="assigned",
            step="办",
        ),
        _t(
            "request_extension",
            _("申请延期"),
            {S.IN_PROGRESS},
            S.EXTENSION_REQUESTED,
            HANDLERS,
            "extension_requested",
            scope="assigned",
            step="办",
        ),
        _t(
            "approve_extension",
            _("批准延期"),
            {S.EXTENSION_REQUESTED},
            S.IN_PROGRESS,
            {R.APPROVER},
            "extension_approved",
            step="办",
        ),
        _t(
            "refuse_extension",
            _("不予延期"),
            {S.EXTENSION_REQUESTED},
            S.IN_PROGRESS,
            {R.APPROVER},
            "extension_refused",
            step="办",
        ),
        # 回 — reply
        _t(
            "draft_letter",
            _("起草处理意见书"),
            {S.IN_PROGRESS},
            S.LETTER_DRAFTED,
            HANDLERS | {R.CLERK},
            "letter_drafted",
            scope="either",
            step="回",
        ),
        _t(
            "return_letter",
            _("退回意见书"),
            {S.LETTER_DRAFTED},
            S.IN_PROGRESS,
            {R.APPROVER, R.CHIEF},
            "letter_returned",
            step="回",
        ),
        _t(
            "approve_letter",
            _("审批处理意见书"),
            {S.LETTER_DRAFTED},
            S.LETTER_APPROVED,
            {R.APPROVER, R.CHIEF},
            "letter_approved",
            step="回",
        ),
        _t(
            "issue_letter",
            _("出具处理意见书"),
            {S.LETTER_APPROVED},
            S.LETTER_ISSUED,
            {R.CLERK} | HANDLERS,
            "letter_issued",
            scope="either",
            step="回",
        ),
        _t(
            "record_delivery",
            _("登记送达回证"),
            {S.LETTER_ISSUED},
            S.DELIVERED,
            {R.CLERK} | HANDLERS,
            "letter_delivered",
            scope="either",
            step="回",
        ),
        _t(
            "record_rating",
            _("登记满意度评价"),
            # After closing too, while the profile's rating window is open (preconditions).
            {S.DELIVERED, S.CLOSED, S.ARCHIVED},
            None,
            {R.CLERK} | HANDLERS,
            "rating_recorded",
            scope="either",
            step="回",
        ),
        _t(
            "record_pledge",
            _("登记息诉息访书"),
            {S.DELIVERED},
            None,
            {R.CLERK} | HANDLERS,
            "settlement_pledge_recorded",
            scope="either",
            step="回",
        ),
        # 交 — report back
        _t(
            "report_back",
            _("反馈交办机关"),
            {S.DELIVERED, S.CLOSED},
            None,
            {R.CLERK, R.APPROVER},
            "reported_back",
            step="交",
        ),
        # 督 — close, archive, review, reopen, warnings
        _t("close", _("销号"), {S.DELIVERED}, S.CLOSED, {R.APPROVER, R.CHIEF}, "closed", step="督"),
        _t(
            "archive",
            _("归档"),
            {S.CLOSED, S.DECLINED, S.MERGED},
            S.ARCHIVED,
            {R.CLERK},
            "archived",
            step="督",
        ),
        _t(
            "open_review",
            _("受理复查（复核）申请"),
            {S.DELIVERED, S.CLOSED, S.ARCHIVED},
            None,
            {R.CLERK},
            "review_requested",
            scope="upper",
            step="督",
        ),
        _t(
            "reopen",
            _("反弹重新办理"),
            {S.CLOSED, S.ARCHIVED},
            S.IN_PROGRESS,
            {R.APPROVER, R.CHIEF},
            "reopened",
            step="督",
        ),
        # The line or team head investigates; the reply is filed once the approver has signed it
        # (seed 004 §二(二)), so the approver files it.
        _t(
            "answer_warning",
            _("预警回复"),
            OPEN_STATES | {S.CLOSED},
            None,
            {R.APPROVER},
            "warning_answered",
            step="督",
        ),
        _t(
            "set_leader_owner",
            _("领导包案"),
            OPEN_STATES,
            None,
            {R.APPROVER, R.CHIEF},
            "leader_owner_set",
            step="督",
        ),
    ]
}

# Registration is not in the table: there is no case yet to be in a state.
REGISTER_ROLES = frozenset({R.CLERK})
