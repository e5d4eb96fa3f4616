"""What each transition does beyond changing state. One small function per row of the workflow
table, named after it; each checks what must be present and raises ``Refused`` before writing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from xinfang.org.choices import Role, UnitKind
from xinfang.org.models import Unit, units_held_active
from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import SHANGHAI

from .. import choices as c
from ..errors import Refused
from ..models import (
    Assignment,
    Case,
    Contact,
    Delivery,
    Document,
    Extension,
    Petitioner,
    Report,
    Signature,
    WarningNotice,
)
from .base import Ctx, Invalid, active_assignment, append_event
from .routing import check_assignable_now

# What a petitioner may do without signing in (the public progress page).
PETITIONER_ACTIONS = {"record_rating"}


def _required(**values) -> None:
    missing = {k: "此项必填" for k, v in values.items() if v in (None, "", [])}
    if missing:
        raise Invalid(missing)


def _user(ctx: Ctx):
    return ctx.by.user if ctx.by else None


# 接 ---------------------------------------------------------------------------------------------


def decline(ctx: Ctx, *, reason: str = "", guidance: str = "") -> None:
    """A case outside the office's scope is declined with the reasons found and the profile's
    guidance, unless the clerk writes their own."""
    from .scope import scope_guidance, scope_reasons

    reasons = scope_reasons(ctx.case, ctx.profile)
    reason = reason or "；".join(reasons)
    guidance = guidance or (scope_guidance(ctx.profile) if reasons else "")
    _required(reason=reason, guidance=guidance)
    ctx.set(decline_reason=reason, guidance=guidance)
    ctx.payload.update(reason=reason, guidance=guidance, scope_reasons=reasons)


def merge(ctx: Ctx, *, into: Case, note: str = "") -> None:
    if into.pk == ctx.case.pk:
        raise Refused("不能合并到本件自身。", field="into")
    if into.jurisdiction_id != ctx.case.jurisdiction_id:
        raise Refused("只能合并到本机关登记的信访件。", field="into")
    if into.state == c.State.MERGED:
        raise Refused(f"{into.number}本身已被合并，请合并到{into.merged_into}。", field="into")
    ctx.case.merged_into = into
    ctx.case.save(update_fields=["merged_into"])
    # The people come along as companions, and their confidentiality with them: it is theirs,
    # not the case's (issue 8).
    secret = False
    for link in ctx.case.petitioner_links.select_related("petitioner"):
        keep = link.confidential or link.petitioner.confidential
        copy, created = into.petitioner_links.get_or_create(
            petitioner=link.petitioner,
            defaults={"role": c.PetitionerRole.COMPANION, "confidential": keep},
        )
        if keep and not copy.confidential:
            copy.confidential = True
            copy.save(update_fields=["confidential"])
        if keep and not link.petitioner.confidential:
            Petitioner.objects.filter(pk=link.petitioner_id).update(confidential=True)
        secret = secret or keep
    if secret and not into.confidential:
        into.confidential = True
        into.save(update_fields=["confidential"])
    ctx.payload.update(into=into.number, note=note)
    append_event(
        case=into,
        type="merge_received",
        by=ctx.by,
        at=ctx.now,
        payload={"from": ctx.case.number, "note": note, "confidential_people": secret},
    )


# 转 ---------------------------------------------------------------------------------------------


def propose(ctx: Ctx, *, proposal: str) -> None:
    _required(proposal=proposal)
    ctx.set(proposal=proposal)
    ctx.payload["proposal"] = proposal


def _conditional_roles(ctx: Ctx, steps: set[str]) -> list[str]:
    from ..facts import case_facts

    facts = case_facts(ctx.case)
    return [
        role
        for cond in ctx.profile.signatures.conditional
        if cond.step in steps and cond.when.matches(facts)
        for role in cond.roles
    ]


def _signatures_needed(ctx: Ctx) -> list[str]:
    """Sign-off first, then whoever must also sign before assignment (e.g. 2211's chief, or the
    leading group head for a provincial referral)."""
    sig = ctx.profile.signatures
    needed: list[str] = []
    for role in [
        *sig.sign_off,
        *sig.assignment,
        *_conditional_roles(ctx, {"sign_off", "assignment"}),
    ]:
        if role not in needed:
            needed.append(role)
    return needed or [Role.APPROVER]


def _sign(ctx: Ctx, stage: str, note: str) -> None:
    Signature.objects.create(
        case=ctx.case, stage=stage, role=ctx.by.role, user=ctx.by.user, at=ctx.now, note=note
    )
    ctx.payload.update(signature=ctx.by.role, note=note)


def _signed_roles(ctx: Ctx, stages: set[str]) -> set[str]:
    """Signatures given since the last return to the clerk count; older ones were withdrawn."""
    since = (
        ctx.case.events.filter(type="return_proposal")
        .order_by("-seq")
        .values_list("at", flat=True)
        .first()
    )
    qs = ctx.case.signatures.filter(stage__in=stages)
    if since:
        qs = qs.filter(at__gt=since)
    return set(qs.values_list("role", flat=True))


def sign_off(ctx: Ctx, *, note: str = "") -> None:
    needed = _signatures_needed(ctx)
    if ctx.by.role != needed[0]:
        raise Refused(f"本地规则要求先由{Role(needed[0]).label}审签。")
    _sign(ctx, c.SignatureStage.SIGN_OFF, note)
    if len(needed) > 1:
        ctx.target = c.State.AWAITING_COUNTERSIGN
        ctx.event_key = "signed_off"
        ctx.payload["awaiting"] = needed[1:]


def countersign(ctx: Ctx, *, note: str = "") -> None:
    needed = _signatures_needed(ctx)
    if ctx.by.role not in needed[1:]:
        raise Refused("本件无需您签批。")
    _sign(ctx, c.SignatureStage.ASSIGNMENT, note)
    missing = [
        r
        for r in needed
        if r not in _signed_roles(ctx, {c.SignatureStage.SIGN_OFF, c.SignatureStage.ASSIGNMENT})
    ]
    if missing:
        ctx.target = c.State.AWAITING_COUNTERSIGN
        ctx.payload["awaiting"] = missing


def return_proposal(ctx: Ctx, *, reason: str) -> None:
    _required(reason=reason)
    ctx.payload["reason"] = reason


@consumes("signatures.registrar_assigns", by="xinfang.cases.services.effects._registrar_assigns")
def _registrar_assigns(ctx: Ctx) -> None:
    """Seed 002 §四(二) 谁登记、谁交办: the person who registered the case hands it over; both
    are recorded with the hand-over."""
    if not ctx.profile.signatures.registrar_assigns or ctx.case.registered_by_id is None:
        return
    registrar = ctx.case.registered_by
    if registrar.pk != ctx.by.user_id:
        raise Refused(f"本地规则“谁登记、谁交办”：本件由{registrar}登记，须由其交办。")
    ctx.payload.update(registrar=registrar.get_username(), assigner=ctx.by.user.get_username())


def assign(
    ctx: Ctx,
    *,
    lead: Unit,
    receiver_name: str,
    assisting: list[Unit] | None = None,
    responsible_person: str = "",
) -> None:
    _required(lead=lead, receiver_name=receiver_name)
    _registrar_assigns(ctx)
    assisting = assisting or []
    check_assignable_now(case=ctx.case, units=[lead, *assisting], profile=ctx.profile)
    if lead in assisting:
        raise Refused("主办单位不能同时是协办单位。", field="assisting")
    Assignment.objects.bulk_create(
        [
            Assignment(
                case=ctx.case,
                unit=lead,
                role=c.AssignmentRole.LEAD,
                assigned_at=ctx.now,
                assigned_by_id=ctx.by.user_id,
                receiver_name=receiver_name,
                responsible_person=responsible_person,
            ),
            *(
                Assignment(
                    case=ctx.case,
                    unit=unit,
                    role=c.AssignmentRole.ASSIST,
                    assigned_at=ctx.now,
                    assigned_by_id=ctx.by.user_id,
                    receiver_name=receiver_name,
                )
                for unit in assisting
            ),
        ]
    )
    ctx.payload.update(
        lead=lead.name,
        assisting=[u.name for u in assisting],
        receiver=receiver_name,
        responsible_person=responsible_person,
    )


def transfer_to_discipline(ctx: Ctx, *, unit: Unit, reason: str, receiver_name: str) -> None:
    _required(unit=unit, reason=reason, receiver_name=receiver_name)
    if unit.kind != UnitKind.DISCIPLINE:
        raise Refused(f"{unit}不是纪检监察机关。", field="unit")
    check_assignable_now(case=ctx.case, units=[unit], profile=ctx.profile)
    ended = ctx.case.assignments.filter(status=c.AssignmentStatus.ACTIVE).update(
        status=c.AssignmentStatus.TRANSFERRED
    )
    Assignment.objects.create(
        case=ctx.case,
        unit=unit,
        role=c.AssignmentRole.LEAD,
        assigned_at=ctx.now,
        assigned_by=_user(ctx),
        receiver_name=receiver_name,
    )
    ctx.set(transferred_to_discipline=True, concerns_misconduct=True)
    ctx.payload.update(unit=unit.name, reason=reason, ended_assignments=ended)


# 改派 (re-assignment) has a module of its own: the hand-over of open work builds on it.
from .reassign import reassign as reassign  # noqa: E402

# 办 ---------------------------------------------------------------------------------------------


def reported_time(ctx: Ctx, when: datetime | None, *, field: str, label: str,
                  not_before: datetime | None, after: str) -> datetime:
    """The instant the paper record gives for what happened (a delivery receipt, a contact
    note, a sign-for slip), bounded as registration's ``received_at`` is: not after the
    instant it is recorded, and not before ``not_before`` (``after`` names it). Without one it
    happened now. A time other than now is written into the event's payload beside the
    recording instant, so the history shows both."""
    if when is None:
        return ctx.now
    if when > ctx.now:
        raise Invalid({field: f"{label}不能晚于当前时间"})
    if not_before is not None and when < not_before:
        bound = f"{not_before.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
        raise Invalid({field: f"{label}不能早于{after}（{bound}）"})
    if when != ctx.now:
        ctx.payload["reported_time"] = {"field": field, "at": when.isoformat(),
                                        "recorded_at": ctx.now.isoformat()}
    return when


def sign_for(ctx: Ctx, *, signed_for_at: datetime | None = None) -> None:
    """``signed_for_at``: when the unit signed for the case on paper, if before it is recorded
    (not before the case was assigned to it)."""
    assignment = ctx.access.assignment if ctx.access else active_assignment(ctx.case, ctx.by.unit)
    if assignment.signed_for_at:
        raise Refused(f"{ctx.by.unit}已于{assignment.signed_for_at:%Y-%m-%d %H:%M}签收。")
    when = reported_time(ctx, signed_for_at, field="signed_for_at", label="签收时间",
                         not_before=assignment.assigned_at, after="交办时间")
    if when != ctx.now:
        ctx.event_at = when
    assignment.signed_for_at, assignment.signed_for_by_id = when, ctx.by.user_id
    assignment.save(update_fields=["signed_for_at", "signed_for_by"])
    ctx.payload.update(unit=ctx.by.unit.name, role=assignment.role)
    if assignment.role == c.AssignmentRole.LEAD:
        ctx.target = c.State.IN_PROGRESS
        if ctx.case.accepted_at is None:
            ctx.set(accepted_at=when)
    else:
        ctx.event_key = "signed_for:assist"


def log_contact(
    ctx: Ctx, *, kind: str, note: str = "", contacted_at: datetime | None = None
) -> None:
    """``contacted_at`` is when the contact happened, which may be before it is recorded."""
    if kind not in c.ContactKind.values:
        raise Invalid({"kind": f"联系方式“{kind}”无效"})
    when = reported_time(ctx, contacted_at, field="contacted_at", label="联系时间",
                         not_before=ctx.case.received_at, after="信访时间")
    Contact.objects.create(case=ctx.case, kind=kind, at=when, by=_user(ctx), note=note)
    ctx.event_key, ctx.event_at = f"contact_logged:{kind}", when
    ctx.payload.update(kind=kind, at=when.isoformat(), note=note)


def deliver_acceptance_notice(
    ctx: Ctx,
    *,
    mode: str,
    deliverer: str,
    recipient: str,
    receipt_signed: bool = True,
    promised_reply: date | None = None,
    delivered_at: datetime | None = None,
) -> None:
    _required(mode=mode, deliverer=deliverer, recipient=recipient)
    when = reported_time(ctx, delivered_at, field="delivered_at", label="送达时间",
                         not_before=ctx.case.received_at, after="信访时间")
    doc = Document.objects.create(
        case=ctx.case,
        kind=c.DocumentKind.ACCEPTANCE_NOTICE,
        status=c.DocumentStatus.ISSUED,
        created_at=ctx.now,
        created_by=_user(ctx),
        issued_at=when,
        data={"promised_reply": promised_reply.isoformat() if promised_reply else ""},
    )
    Delivery.objects.create(
        case=ctx.case,
        document=doc,
        mode=mode,
        delivered_at=when,
        deliverer=deliverer,
        recipient=recipient,
        receipt_signed=receipt_signed,
        recorded_by=_user(ctx),
    )
    ctx.event_at = when
    ctx.payload.update(mode=mode, deliverer=deliverer, at=when.isoformat())


def notify_offices(ctx: Ctx, *, offices: str, note: str = "") -> None:
    _required(offices=offices)
    ctx.payload.update(offices=offices, note=note)


def submit_report(ctx: Ctx, *, kind: str, text: str) -> None:
    _required(text=text)
    if kind not in c.ReportKind.values:
        raise Invalid({"kind": f"报告类型“{kind}”无效"})
    Report.objects.create(case=ctx.case, kind=kind, text=text, at=ctx.now, by=_user(ctx))
    ctx.event_key = f"report_submitted:{kind}"
    ctx.payload.update(kind=kind, text=text)


def record_finding(ctx: Ctx, *, findings: dict[int, tuple[str, str, str]]) -> None:
    """``findings`` maps a demand's seq to (finding, resolution class, note)."""
    if not findings:
        raise Invalid({"findings": "请至少对一项诉求作出核查认定"})
    demands = {d.seq: d for d in ctx.case.demands.all()}
    errors = {}
    for seq, (finding, resolution, _note) in findings.items():
        if seq not in demands:
            errors[f"findings[{seq}]"] = f"本件没有第{seq}项诉求"
        elif finding not in c.Finding.values:
            errors[f"findings[{seq}].finding"] = "核查结论须为属实、部分属实或不属实"
        elif resolution and resolution not in c.ResolutionClass.values:
            errors[f"findings[{seq}].resolution_class"] = "三到位一处理分类无效"
    if errors:
        raise Invalid(errors)
    for seq, (finding, resolution, note) in findings.items():
        d = demands[seq]
        d.finding, d.resolution_class, d.finding_note = finding, resolution, note
        d.save(update_fields=["finding", "resolution_class", "finding_note"])
    ctx.payload["findings"] = {str(k): list(v) for k, v in findings.items()}


@consumes("extension.max_count", "extension.requires_progress_report",
          by="xinfang.cases.services.effects.request_extension")
def request_extension(
    ctx: Ctx, *, reason: str, expected_completion: date, progress_report: str = ""
) -> None:
    rule = ctx.profile.extension
    # The day asked for is the day approved (capped by the profile), so it is always needed; the
    # progress report only where the profile asks for it (seed 000 §六(三), 002 §五(三)).
    _required(reason=reason, expected_completion=expected_completion,
              **({"progress_report": progress_report} if rule.requires_progress_report else {}))
    granted = ctx.case.extensions.filter(approved=True).count()
    if granted >= ctx.profile.extension.max_count:
        raise Refused(
            f"本地规则最多延期{ctx.profile.extension.max_count}次，本件已延期{granted}次。"
        )
    Extension.objects.create(
        case=ctx.case,
        requested_at=ctx.now,
        requested_by=_user(ctx),
        reason=reason,
        progress_report=progress_report,
        expected_completion=expected_completion,
    )
    ctx.payload.update(
        reason=reason,
        progress_report=progress_report,
        expected_completion=expected_completion.isoformat(),
    )


def _decide_extension(ctx: Ctx, approved: bool, note: str) -> Extension:
    ext = ctx.case.extensions.filter(approved__isnull=True).last()
    ext.approved, ext.decided_at, ext.decided_by, ext.decision_note = (
        approved,
        ctx.now,
        _user(ctx),
        note,
    )
    ext.save(update_fields=["approved", "decided_at", "decided_by", "decision_note"])
    ctx.payload["note"] = note
    return ext


@consumes("extension.approved_by", by="xinfang.cases.services.effects.approve_extension")
def approve_extension(ctx: Ctx, *, note: str = "") -> None:
    """Approved to the day the unit asked for (its expected completion), never beyond the
    profile's ``extension`` amount (the engine caps it, see ``rules.engine.extended_due``)."""
    if ctx.by.role not in ctx.profile.extension.approved_by:
        labels = "、".join(str(Role(r).label) for r in ctx.profile.extension.approved_by)
        raise Refused(f"本地规则规定延期由{labels}批准。")
    ext = _decide_extension(ctx, True, note)
    ctx.extend_to = ext.expected_completion
    ctx.payload.update(amount=ctx.profile.extension.amount, unit=ctx.profile.extension.unit,
                       until=ext.expected_completion.isoformat()
                       if ext.expected_completion else None)


def refuse_extension(ctx: Ctx, *, note: str) -> None:
    _required(note=note)
    _decide_extension(ctx, False, note)


# 回 ---------------------------------------------------------------------------------------------


def _letter(ctx: Ctx, status: str | None = None) -> Document:
    qs = ctx.case.documents.filter(kind=c.DocumentKind.DECISION_LETTER).exclude(
        status=c.DocumentStatus.SUPERSEDED
    )
    if status:
        qs = qs.filter(status=status)
    doc = qs.last()
    if doc is None:
        raise Refused("本件没有处理意见书。")
    return doc


def draft_letter(ctx: Ctx, *, body: str, review_body: str = "") -> None:
    _required(body=body)
    undecided = [d.seq for d in ctx.case.demands.all() if not d.finding]
    if undecided:
        raise Refused(f"第{'、'.join(map(str, undecided))}项诉求尚未核查认定，不能起草处理意见书。")
    ctx.case.documents.filter(kind=c.DocumentKind.DECISION_LETTER).exclude(
        status=c.DocumentStatus.SUPERSEDED
    ).update(status=c.DocumentStatus.SUPERSEDED)
    doc = Document.objects.create(
        case=ctx.case,
        kind=c.DocumentKind.DECISION_LETTER,
        body=body,
        created_at=ctx.now,
        created_by=_user(ctx),
        data={"review_notice": review_body},
    )
    ctx.payload.update(document=doc.pk, body=body)


def return_letter(ctx: Ctx, *, reason: str) -> None:
    _required(reason=reason)
    ctx.payload["reason"] = reason


@consumes("reply_modes.signed_by", "reply_modes.titles", "signatures.letter",
          "signatures.conditional.titles", by="xinfang.cases.services.effects.letter_signers")
def letter_signers(ctx: Ctx) -> list[tuple[str, str]]:
    """(role, title) of each signature the letter needs, in order: the first matching reply
    mode's ``signed_by`` and ``titles`` (seed 000 §六(二): a province leader's instruction is
    answered in writing signed by 区委书记 and 区长), else ``signatures.letter``, then any
    conditional letter signatures."""
    from ..facts import case_facts

    facts = case_facts(ctx.case)
    mode = next((r for r in ctx.profile.reply_modes if r.when.matches(facts) and r.signed_by),
                None)
    if mode is not None:
        titles = list(mode.titles) + [""] * len(mode.signed_by)
        needed = list(zip(mode.signed_by, titles, strict=False))
    else:
        needed = [(role, "") for role in ctx.profile.signatures.letter or (Role.APPROVER,)]
    for cond in ctx.profile.signatures.conditional:
        if cond.step == "letter" and cond.when.matches(facts):
            titles = list(cond.titles) + [""] * len(cond.roles)
            needed += list(zip(cond.roles, titles, strict=False))
    return needed


def approve_letter(ctx: Ctx, *, note: str = "") -> None:
    """Each signature the letter needs, in order, each by a different person; the letter is
    approved with the last."""
    doc = _letter(ctx, c.DocumentStatus.DRAFT)
    needed = letter_signers(ctx)
    given = list(ctx.case.signatures.filter(stage=c.SignatureStage.LETTER, at__gte=doc.created_at)
                 .order_by("at", "pk").values_list("user_id", flat=True))
    if len(given) >= len(needed):
        given = []  # an earlier round's signatures (a returned letter) do not count
    role, title = needed[len(given)]
    # The office's chief may sign where its approver is asked for (not the other way round).
    if ctx.by.role != role and not (role == Role.APPROVER and ctx.by.role == Role.CHIEF):
        who = f"{Role(role).label}" + (f"（{title}）" if title else "")
        raise Refused(f"处理意见书须由{who}签字。")
    if ctx.by.user_id in given:
        raise Refused("同一人不能在处理意见书上签两次字。")
    _sign(ctx, c.SignatureStage.LETTER, f"{title}：{note}" if title else note)
    ctx.payload.update(title=title, document=doc.pk)
    if len(given) + 1 < len(needed):
        ctx.target, ctx.event_key = c.State.LETTER_DRAFTED, "letter_signed"
        ctx.payload["awaiting"] = [f"{Role(r).label}{f'（{t}）' if t else ''}"
                                   for r, t in needed[len(given) + 1:]]
        return
    doc.status, doc.approved_at, doc.approved_by = c.DocumentStatus.APPROVED, ctx.now, _user(ctx)
    doc.save(update_fields=["status", "approved_at", "approved_by"])


def issue_letter(ctx: Ctx) -> None:
    doc = _letter(ctx, c.DocumentStatus.APPROVED)
    doc.status, doc.issued_at = c.DocumentStatus.ISSUED, ctx.now
    doc.save(update_fields=["status", "issued_at"])
    ctx.payload["document"] = doc.pk


def _written_because(ctx: Ctx) -> str:
    """The reply-mode rule that made this case's answer written, in words (the rule that
    applied, not a fixed guess at one)."""
    from xinfang.rules.words import seed_words

    from ..facts import case_facts

    facts = case_facts(ctx.case)
    rule = next((r for r in ctx.profile.reply_modes
                 if r.mode == "written" and r.when.matches(facts)), None)
    if rule is None:
        return "登记时的规则要求"
    return "依据" + seed_words(rule.seed, ctx.profile.seed)


def record_delivery(
    ctx: Ctx,
    *,
    mode: str,
    delivered_at: datetime,
    deliverer: str,
    recipient: str,
    receipt_signed: bool = False,
    refused: bool = False,
    refusal_reason: str = "",
    witness: str = "",
) -> None:
    _required(mode=mode, delivered_at=delivered_at, deliverer=deliverer, recipient=recipient)
    if mode not in c.DeliveryMode.values:
        raise Invalid({"mode": f"送达方式“{mode}”无效"})
    if ctx.case.reply_mode_required == "written" and mode not in c.WRITTEN_MODES:
        raise Refused(f"本件须书面答复（{_written_because(ctx)}），电话告知不能作为送达。",
                      field="mode")
    reported_time(ctx, delivered_at, field="delivered_at", label="送达时间",
                  not_before=ctx.case.received_at, after="信访时间")
    if not receipt_signed and not (refused and witness and refusal_reason):
        raise Refused(
            "没有送达回证：须有信访人签收，或拒收时写明理由并有见证人。", field="receipt_signed"
        )
    doc = _letter(ctx, c.DocumentStatus.ISSUED)
    Delivery.objects.create(
        case=ctx.case,
        document=doc,
        mode=mode,
        delivered_at=delivered_at,
        deliverer=deliverer,
        recipient=recipient,
        receipt_signed=receipt_signed,
        refused=refused,
        refusal_reason=refusal_reason,
        witness=witness,
        recorded_by=_user(ctx),
    )
    if not refused:  # the reply reached the petitioner: its latest such instant is kept
        kept = ctx.case.reply_delivered_at
        ctx.set(reply_delivered_at=delivered_at if kept is None else max(kept, delivered_at))
    ctx.event_at = delivered_at
    ctx.payload.update(
        mode=mode,
        delivered_at=delivered_at.isoformat(),
        deliverer=deliverer,
        receipt_signed=receipt_signed,
        refused=refused,
        witness=witness,
    )


def record_rating(ctx: Ctx, *, rating: str, reason: str = "") -> None:
    if rating not in c.Rating.values:
        raise Invalid({"rating": "满意度须为满意、基本满意或不满意"})
    if ctx.case.rating:
        raise Refused("本件已评价，不能重复评价。")
    window = ctx.case.clocks.filter(name="rating_window").order_by("-started_at").first()
    if ctx.case.state != c.State.DELIVERED and window is not None and ctx.now >= window.due_at:
        last = (window.due_at - timedelta(microseconds=1)).astimezone(SHANGHAI)
        raise Refused(f"满意度评价期限已过（至{last:%Y-%m-%d} 24时止）。")
    ctx.set(rating=rating, rating_at=ctx.now)
    ctx.payload.update(rating=rating, reason=reason)


def record_pledge(ctx: Ctx, *, text: str = "", signed_on: date | None = None) -> None:
    Document.objects.create(
        case=ctx.case,
        kind=c.DocumentKind.SETTLEMENT_PLEDGE,
        status=c.DocumentStatus.ISSUED,
        body=text,
        created_at=ctx.now,
        created_by=_user(ctx),
        issued_at=ctx.now,
        data={"signed_on": (signed_on or ctx.now.date()).isoformat()},
    )
    ctx.set(settlement_pledge_at=ctx.now)
    ctx.payload["text"] = text


# 交 ---------------------------------------------------------------------------------------------


def report_back(ctx: Ctx, *, note: str = "", contents: list[str] | None = None) -> None:
    if not ctx.case.is_referred:
        raise Refused("本件不是上级交办件，无需反馈交办机关。")
    from ..facts import case_facts

    # What the profile's matching rule says is owed, and to whom (e.g. jianan's 市乡村振兴局).
    facts = case_facts(ctx.case)
    rule = next((r for r in ctx.profile.report_back if r.when.matches(facts)), None)
    ctx.set(reported_back_at=ctx.now)
    ctx.payload.update(
        to=(rule.to if rule and rule.to else "") or ctx.case.source_office,
        note=note,
        contents=contents or ([REPORT_CONTENTS.get(d, d) for d in rule.contents] if rule
                              else ["处理意见书", "调查报告", "佐证材料"]),
    )


REPORT_CONTENTS = {
    "decision_letter": "处理意见书", "investigation_report": "调查报告", "evidence": "佐证材料",
    "acceptance_notice": "受理告知书", "provincial_table": "省级统计表",
    "verification_opinion": "核查意见", "initial_report": "初步调查报告",
    "handling_report": "处置情况报告", "closing_report": "办结报告",
    "delivery_receipt": "送达回证", "satisfaction_form": "满意度评价表",
    "settlement_pledge": "息诉息访书",
}


# 督 ---------------------------------------------------------------------------------------------


def close(ctx: Ctx, *, note: str = "") -> None:
    from .closing import missing_for_closing

    missing = missing_for_closing(ctx.case, ctx.profile, signing_role=ctx.by.role, at=ctx.now)
    if missing:
        raise Refused("不能销号，尚缺：" + "；".join(missing))
    needed = list(
        dict.fromkeys([*ctx.profile.signatures.closing, *_conditional_roles(ctx, {"closing"})])
    ) or [Role.APPROVER]
    if ctx.by.role not in needed:
        raise Refused(f"本地规则要求由{'、'.join(str(Role(r).label) for r in needed)}签字销号。")
    _sign(ctx, c.SignatureStage.CLOSING, note)
    signed = set(
        ctx.case.signatures.filter(stage=c.SignatureStage.CLOSING).values_list("role", flat=True)
    )
    awaiting = [r for r in needed if r not in signed]
    if awaiting:
        ctx.target, ctx.event_key = c.State.DELIVERED, "closing_signed"
        ctx.payload["awaiting"] = awaiting
        return
    ctx.set(closed_at=ctx.now)


def archive(ctx: Ctx) -> None:
    ctx.set(archived_at=ctx.now)


def open_review(ctx: Ctx, *, received_at: datetime, reason: str, clerk) -> None:
    """复查/复核: a linked case registered at the next level up, by that office's clerk."""
    from .registration import DemandInput, PetitionerInput, Registration, case_register

    _required(reason=reason)
    if ctx.case.kind == c.Kind.REREVIEW:
        raise Refused("复核后同一事项不再受理（《信访工作条例》第三十六条）。")
    if ctx.case.reviews.exists():
        raise Refused(f"本件已申请{ctx.case.reviews.first().get_kind_display()}，不能重复申请。")
    window = ctx.case.clocks.filter(kind="window", name__endswith="review_request_window").first()
    if window and received_at > window.due_at:
        last_day = (window.due_at - timedelta(microseconds=1)).astimezone(SHANGHAI)
        raise Refused(
            f"已超过申请期限（{window.label}至{last_day:%Y-%m-%d} 24时止）。",
            field="received_at",
        )
    kind = c.Kind.REREVIEW if ctx.case.kind == c.Kind.REVIEW else c.Kind.REVIEW
    kind_label = "复核" if kind == c.Kind.REREVIEW else "复查"
    # The same people (not copies of them), with their confidentiality.
    petitioners = [
        PetitionerInput(
            name=link.petitioner.name,
            role=link.role,
            petitioner_id=link.petitioner_id,
            confidential=link.confidential or link.petitioner.confidential,
        )
        for link in ctx.case.petitioner_links.select_related("petitioner").order_by("pk")
    ]
    demands = [DemandInput(text=d.text, category=d.category) for d in ctx.case.demands.all()]
    review = case_register(
        by=clerk,
        data=Registration(
            channel=c.Channel.LETTER,
            kind=kind,
            matter=f"{ctx.case.number}的{kind_label}申请：{reason}",
            received_at=received_at,
            petitioners=petitioners,
            demands=demands,
            township=None,
            village=None,
            review_of=ctx.case,
            confidential=ctx.case.confidential,
        ),
    )
    stage = ctx.profile.review_windows.rereview if kind == c.Kind.REREVIEW \
        else ctx.profile.review_windows.review
    ctx.payload.update(review=review.number, kind=kind, reason=reason, to=stage.to)
    ctx.event_at = received_at


def reopen(ctx: Ctx, *, reason: str) -> None:
    _required(reason=reason)
    # Handled again by the units that handled it: one switched off since (merged away) would
    # hold the case with nobody to work it, its clocks alerting an empty unit.
    handling = list(ctx.case.assignments.filter(status=c.AssignmentStatus.ACTIVE)
                    .select_related("unit").order_by("pk"))
    active = units_held_active(a.unit_id for a in handling)
    off = [a.unit.name for a in handling if a.unit_id not in active]
    if off:
        raise Refused(f"承办单位{'、'.join(dict.fromkeys(off))}已停用，本件无法交其重新办理；"
                      "请系统管理员先重新启用该单位并配备人员。")
    ctx.set(closed_at=None, archived_at=None)
    ctx.payload["reason"] = reason


@consumes("warnings.signed_by", by="xinfang.cases.services.effects.answer_warning")
def answer_warning(ctx: Ctx, *, rule: str, cause: str, measures: str) -> None:
    _required(cause=cause, measures=measures)
    notice = WarningNotice.objects.filter(case=ctx.case, rule=rule, answered_at=None).first()
    if notice is None:
        raise Refused("本件没有待回复的预警提醒单。", field="rule")
    # The follow-up is signed by whom the rule names (seed 004 §二(二): the approver).
    warning = next((w for w in ctx.profile.warnings if w.name == rule), None)
    if warning and warning.signed_by and ctx.by.role not in warning.signed_by:
        labels = "、".join(str(Role(r).label) for r in warning.signed_by)
        raise Refused(f"预警回复须由{labels}签署。")
    notice.answered_at, notice.cause, notice.measures, notice.signed_by = (
        ctx.now,
        cause,
        measures,
        _user(ctx),
    )
    notice.save(update_fields=["answered_at", "cause", "measures", "signed_by"])
    ctx.payload.update(rule=rule, cause=cause, measures=measures)
    if notice.follow_up and notice.follow_up.status != "stopped":
        clock = notice.follow_up
        clock.status, clock.stopped_at, clock.met = "stopped", ctx.now, ctx.now <= clock.due_at
        clock.save(update_fields=["status", "stopped_at", "met"])
        ctx.payload["met"] = clock.met


def set_leader_owner(ctx: Ctx, *, leader) -> None:
    from xinfang.registers.backlog import on_leader_owner

    _required(leader=leader)
    ctx.set(leader_owner=leader)
    ctx.payload["leader"] = str(leader)
    if on_leader_owner(case=ctx.case, at=ctx.now):
        ctx.payload["backlog"] = "已列入"  # a leader-owned repeat joins the backlog register


consumes("signatures.sign_off", "signatures.assignment", "signatures.conditional.when",
         "signatures.conditional.step", "signatures.conditional.roles",
         by="xinfang.cases.services.effects._signatures_needed")
consumes("signatures.closing", by="xinfang.cases.services.effects.close")
consumes("report_back.contents", "report_back.to", by="xinfang.cases.services.effects.report_back")
consumes("review_windows.review.to", "review_windows.rereview.to",
         by="xinfang.cases.services.effects.open_review")
