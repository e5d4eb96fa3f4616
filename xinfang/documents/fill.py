"""What each instrument says, read from the case record: one small function per template.

Every function returns the template's fields for one audience; identities pass through
``disclosure.petitioner_fields`` so a unit's copy masks the petitioners who asked for
confidentiality and a masked copy masks everyone. Dates are written the Chinese way."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from xinfang.cases import choices as c
from xinfang.cases.disclosure import is_confidential, petitioner_fields
from xinfang.cases.memo import prefetched
from xinfang.cases.models import Case, Document
from xinfang.org.choices import Role
from xinfang.rules.store import profile_of

from .models import Audience

SH = ZoneInfo("Asia/Shanghai")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value, SH).date()
    return f"{value.year}年{value.month}月{value.day}日"


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value, SH)
    return f"{day(local)} {local:%H:%M}"


def _who(user) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _revealed(audience: str, link) -> bool:
    """Whether this audience's copy shows ``link``'s person in clear: the office's all, the
    handling units' those who did not ask for confidentiality, the masked copy none."""
    if audience == Audience.FULL:
        return True
    return audience == Audience.UNIT and not is_confidential(link.petitioner, link)


def people(case: Case, audience: str) -> list[dict[str, str]]:
    """The case's petitioners, principal first, as this audience may read them."""
    rows = []
    for link in case.petitioner_links.select_related("petitioner").order_by("id"):
        fields = petitioner_fields(link.petitioner, revealed=_revealed(audience, link))
        fields["role"] = link.role
        rows.append(fields)
    return rows


def unit_clear(case: Case) -> list[int]:
    """The people ``people(case, Audience.UNIT)`` shows in clear: kept with the frozen copy."""
    return sorted(link.petitioner_id
                  for link in case.petitioner_links.select_related("petitioner")
                  if _revealed(Audience.UNIT, link))


def _principal(case: Case, audience: str) -> tuple[dict[str, str], str]:
    rows = people(case, audience)
    main = next((r for r in rows if r["role"] in c.PETITIONING_ROLES), rows[0] if rows else {})
    others = "、".join(r["name"] for r in rows if r is not main)
    return main, others


def _lead(case: Case):
    rows = case.assignments.select_related("unit").order_by("assigned_at", "id")
    lead = [a for a in rows if a.role == c.AssignmentRole.LEAD]
    active = [a for a in lead if a.status == c.AssignmentStatus.ACTIVE]
    # An assisting unit relieved by a reassignment (transferred) is no longer named.
    return (active or lead or [None])[-1], [a for a in rows if a.role == c.AssignmentRole.ASSIST
                                            and a.status != c.AssignmentStatus.TRANSFERRED]


def _identity(case: Case, audience: str) -> dict[str, str]:
    main, others = _principal(case, audience)
    lead, _assist = _lead(case)
    return {
        "case_number": case.number,
        "petitioner_name": main.get("name", ""),
        "petitioner_phone": main.get("phone", ""),
        "id_number": main.get("id_number", ""),
        "address": main.get("address", ""),
        "companions": others or "无",
        "received_date": day(case.received_at),
        "channel": case.get_channel_display(),
        "matter": case.matter,
        "handling_unit": lead.unit.name if lead else "",
        "office_name": lead.unit.name if lead else case.jurisdiction.name,
    }


def _locality(case: Case) -> str:
    parts = [u.name for u in (case.township, case.village) if u is not None]
    return "".join(parts) or case.jurisdiction.name


def _delivery(case: Case, document: Document | None):
    if document is None:
        return None
    return document.deliveries.order_by("-delivered_at", "-id").first()


def _user_phone(user) -> str:
    return getattr(user, "phone", "") if user is not None else ""


def acceptance_notice(case: Case, audience: str, source: Document | None, params: dict) -> dict:
    ctx = _identity(case, audience)
    handler = source.created_by if source else None
    delivery = _delivery(case, source)
    promised = (source.data or {}).get("promised_reply") if source else ""
    reply_by = day(date.fromisoformat(promised)) if promised else ""
    if not reply_by:
        clock = case.clocks.filter(kind="deadline").order_by("due_at").last()
        reply_by = day(clock.due_at) if clock else ""
    ctx.update(
        handler=_who(handler),
        handler_phone=_user_phone(handler),
        reply_by=reply_by or "    年  月  日",
        issue_date=day(source.issued_at if source else case.accepted_at),
        delivered_at=moment(delivery.delivered_at) if delivery else "",
        deliverer=delivery.deliverer if delivery else "",
        deliverer_phone=_user_phone(handler) if delivery else "",
        # The query code opens the petitioner's own progress page: only on the petitioner's copy.
        query_code=case.query_code if audience == Audience.FULL else "（仅向信访人出具）",
    )
    return ctx


def review_notice(case: Case) -> str:
    """The profile's review notice (seed 001 附件6): the window and the office to apply to."""
    stage = profile_of(case.profile).review_windows.review
    unit = "个工作日" if stage.request.unit == "working_days" else "日"
    office = stage.to or "上一级行政机关"
    written = "书面" if "书面" in office else ""
    office = office.split("（")[0]
    days = f"{stage.request.amount}{unit}"
    return f"如对此处理意见不服，可以自收到之日起{days}内向{office}{written}提出复查申请。"


def demands_of(case: Case):
    """The case's demands by seq: the list the case page prefetched (by seq) when there is one,
    else one query."""
    read = prefetched(case, "demands")
    return read if read is not None else case.demands.order_by("seq")


def letter_prefill(case: Case) -> str:
    """The body a unit starts its decision letter from: the findings per demand — 属实/部分属实/
    不属实, what was done, the policy basis (the unit's finding note)."""
    lines = ["经调查核实，现就你反映的问题答复如下："]
    for demand in demands_of(case):
        finding = demand.get_finding_display() or "尚未认定"
        done = demand.get_resolution_class_display() if demand.resolution_class else ""
        text = f"{demand.seq}. 关于“{demand.text}”：经核查，{finding}。"
        if demand.finding_note:
            text += demand.finding_note.rstrip("。") + "。"
        if done:
            text += f"（{done}）"
        lines.append(text)
    return "\n".join(lines)


def decision_letter(case: Case, audience: str, source: Document | None, params: dict) -> dict:
    ctx = _identity(case, audience)
    handler = source.created_by if source else None
    delivery = _delivery(case, source)
    notice = ((source.data or {}).get("review_notice") if source else "") or review_notice(case)
    ctx.update(
        handler=_who(handler),
        handler_phone=_user_phone(handler),
        opinion=(source.body if source and source.body else letter_prefill(case)),
        review_notice=notice,
        issue_date=day(source.issued_at if source else None),
        delivered_at=moment(delivery.delivered_at) if delivery else "",
        deliverer=delivery.deliverer if delivery else "",
        deliverer_phone="",
    )
    return ctx


def delivery_receipt(case: Case, audience: str, source: Document | None, params: dict) -> dict:
    ctx = _identity(case, audience)
    delivery = _delivery(case, source)
    recipient = delivery.recipient if delivery else ""
    if delivery and audience != Audience.FULL and recipient:
        # Handed to one of the petitioners (a companion too): that person as this copy shows them.
        full, shown = people(case, Audience.FULL), people(case, audience)
        recipient = next((s["name"] for f, s in zip(full, shown, strict=True)
                          if f["name"] == recipient), recipient)
    ctx.update(
        document_title=source.get_kind_display() if source else "",
        recipient=recipient,
        mode=delivery.get_mode_display() if delivery else "",
        delivered_at=moment(delivery.delivered_at) if delivery else "",
        deliverer=delivery.deliverer if delivery else "",
        receipt="已签收" if delivery and delivery.receipt_signed else "",
        refusal_reason=(delivery.refusal_reason or "") if delivery and delivery.refused else "",
        witness=delivery.witness if delivery else "",
    )
    return ctx


def satisfaction_form(case: Case, audience: str, source: Document | None, params: dict) -> dict:
    ctx = _identity(case, audience)
    event = case.events.filter(type="record_rating").order_by("-seq").first()
    boxes = "    ".join(
        ("☑" if case.rating == value else "☐") + str(label) for value, label in c.Rating.choices
    )
    ctx.update(
        rating_boxes=boxes,
        reasons=(event.payload.get("reason", "") if event else ""),
        rating_date=day(case.rating_at),
    )
    return ctx


def _outcome(case: Case) -> str:
    letter = case.documents.filter(
        kind=c.DocumentKind.DECISION_LETTER, status=c.DocumentStatus.ISSUED
    ).last()
    findings = "；".join(
        f"{d.text}：{d.get_finding_display()}" for d in demands_of(case) if d.finding
    )
    return findings or (letter.body[:200] if letter else "")


def settlement_pledge(case: Case, audience: str, source: Document | None, params: dict) -> dict:
    ctx = _identity(case, audience)
    signed = (source.data or {}).get("signed_on") if source else ""
    ctx.update(
        outcome=_outcome(case),
        pledge=(source.body if source and source.body else "今后不再就此事上访。"),
        signed_on=day(date.fromisoformat(signed)) if signed else "    年  月  日",
    )
    return ctx


ROLE_NAMES = dict(Role.choices)


def warning_notice(case: Case, audience: str, source, params: dict) -> dict:
    ctx = _identity(case, audience)
    notice = case.warning_notices.order_by("-issued_at", "-id").first()
    due = notice.follow_up.due_at if notice and notice.follow_up_id else None
    ctx.update(
        office_name=case.jurisdiction.name,
        issued_at=moment(notice.issued_at) if notice else "",
        locality=_locality(case),
        reasons="；".join(map(str, notice.reasons)) if notice else "",
        to_whom="、".join(str(ROLE_NAMES.get(r, r)) for r in notice.to_roles) if notice else "",
        copied_to="、".join(str(ROLE_NAMES.get(r, r)) for r in notice.cc_roles) if notice else "",
        due_date=day(due),
        cause=notice.cause if notice else "",
        measures=notice.measures if notice else "",
        approver=_who(notice.signed_by) if notice and notice.signed_by_id else "",
    )
    return ctx


def assignment_sheet(case: Case, audience: str, source, params: dict) -> dict:
    ctx = _identity(case, audience)
    lead, assisting = _lead(case)
    sign_off = case.signatures.filter(stage=c.SignatureStage.SIGN_OFF).order_by("at").last()
    ctx.update(
        office_name=case.jurisdiction.name,
        registered_at=moment(case.registered_at),
        headcount=str(case.headcount),
        source=case.source_office or case.get_source_level_display() or "",
        demands="\n".join(
            f"{d.seq}. {d.text}（{d.category}）" for d in demands_of(case)
        ),
        proposal=case.proposal,
        clerk=_who(case.registered_by),
        sign_off=(
            f"{sign_off.note or '同意'}　{_who(sign_off.user)}　{day(sign_off.at)}"
            if sign_off
            else ""
        ),
        lead_unit=lead.unit.name if lead else "",
        assisting_units="、".join(a.unit.name for a in assisting) or "无",
        assigned_at=moment(lead.assigned_at) if lead else "",
        receiver=lead.receiver_name if lead else "",
    )
    return ctx


def supervision_order(case: Case, audience: str, source, params: dict) -> dict:
    ctx = _identity(case, audience)
    at = params["_at_dt"]
    late = [
        f"{k.label}（截止{moment(k.due_at)}）"
        for k in case.clocks.filter(kind="deadline").order_by("due_at")
        if k.met is False or (k.status == "running" and k.due_at < at)
    ]
    ctx.update(
        office_name=case.jurisdiction.name,
        issued_at=moment(params["_at_dt"]),
        late_items="；".join(late + ([params["problem"]] if params.get("problem") else []))
        or "（无超期时限）",
        required_action=params.get("required_action", ""),
        due_date=params.get("due_date", ""),
        issuer=params.get("_issuer", ""),
    )
    return ctx


REPORT_TITLES = {
    "investigation": "调查处理报告",
    "initial": "初步调查报告",
    "handling": "办理情况报告",
    "closing": "结案报告",
}


def report(kind: str):
    def fill(case: Case, audience: str, source, params: dict) -> dict:
        ctx = _identity(case, audience)
        rows = (
            list(case.reports.filter(kind=kind).order_by("at", "id")) if kind != "closing" else []
        )
        last = rows[-1] if rows else None
        findings = "\n".join(
            f"{d.seq}. {d.text}（{d.category}）：{d.get_finding_display() or '尚未认定'}"
            + (f"。{d.finding_note}" if d.finding_note else "")
            for d in demands_of(case)
        )
        handling = "\n".join(
            f"{day(k.at)} {k.get_kind_display()}：{k.note}" for k in case.contacts.order_by("at")
        )
        delivery = case.deliveries.order_by("-delivered_at").first()
        outcome = []
        if delivery:
            outcome.append(
                f"处理意见书已于{day(delivery.delivered_at)}{delivery.get_mode_display()}。"
            )
        if case.rating:
            outcome.append(f"信访人评价：{case.get_rating_display()}。")
        if case.settlement_pledge_at:
            outcome.append(f"已签订停访承诺书（{day(case.settlement_pledge_at)}）。")
        if case.closed_at:
            outcome.append(f"已于{day(case.closed_at)}销号。")
        text = "\n\n".join(r.text for r in rows) if rows else ""
        if kind == "closing":
            text = "\n".join(
                f"{e.seq}. {moment(e.at)} {e.type}" for e in case.events.order_by("seq")
            )
        by = last.by if last else None
        ctx.update(
            report_title=REPORT_TITLES[kind],
            locality=_locality(case),
            findings=findings,
            handling=handling or "（无联系记录）",
            report_text=text,
            outcome="".join(outcome) or "办理中。",
            reporting_unit=ctx["handling_unit"] or case.jurisdiction.name,
            report_date=day(last.at if last else (case.closed_at or params["_at_dt"])),
        )
        if by is not None:
            ctx["reporting_unit"] += f"（{_who(by)}）"
        return ctx

    return fill
