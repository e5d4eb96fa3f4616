"""Writes of the supervisor's practices (issue 17): each ``@transaction.atomic``, keyword-only
``by`` (the acting membership), audited; a step on a case is also written to the case's history
(``append_event``) and reaches the inbox of whoever must act (``Notice``).

- 督办单: ``order_issue``, ``order_answer``; 督查通报: ``bulletin_issue``;
- 核查意见: ``verification_record`` (seed 003 §三(二), seed 001 §四(二));
- 结案审核: ``review_record`` (seed 002 §四(三)) and its 整改: ``rectification_answer``;
- 代办: ``proxy_take``, ``proxy_step_record`` (seed 004 §二(三));
- ``oversight_sweep``: flags orders and rectifications not answered by their due instant, once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import cases_for
from xinfang.cases.services.base import Invalid, append_event
from xinfang.notify.models import Kind, Notice
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit, units_held_active
from xinfang.rules.consumers import consumes
from xinfang.rules.profile import Profile
from xinfang.rules.store import profile_of

from .models import (
    CaseReview,
    ProxyHandling,
    Rectification,
    SupervisionBulletin,
    SupervisionOrder,
    Verification,
)
from .selectors import home_of, lead_unit_of, order_figures

SH = ZoneInfo("Asia/Shanghai")
OVERSIGHT = "oversight"  # the audit action of every write here
ISSUERS = {Role.INSPECTOR, Role.CLERK, Role.APPROVER, Role.CHIEF}  # 督办、通报、审核、核查
PROXY_ASSIGNERS = {Role.CLERK, Role.APPROVER, Role.CHIEF}
VERIFY_LABELS = {"document": "书面核查", "site": "实地核查", "phone": "电话回访核查"}


def _audit(by: Membership, what: str, pk, at: datetime, **detail) -> None:
    audit_record(action=OVERSIGHT, actor=by.user, object_type=what, object_id=pk, at=at,
                 detail={"membership": by.pk, "role": by.role, "unit": by.unit.name, **detail})


def end_of(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai — a date limit is met all that day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SH)


def _visible(by: Membership, case: Case) -> Case:
    """The case through the permission door, or a refusal (never a hint it exists)."""
    found = cases_for(by).filter(pk=case.pk).select_related("profile", "jurisdiction").first()
    if found is None:
        raise Refused("无权查看该信访件。")
    # The history is a chain: writers of one case take its row lock, as the transitions do.
    Case.objects.select_for_update().filter(pk=found.pk).values_list("pk").get()
    return found


def _notice(*, case: Case, kind: str, unit_id: int | None, role: str, text: str, todo: str,
            event, at: datetime, needs_reason: bool = True) -> None:
    if unit_id is not None:
        Notice.objects.create(case=case, kind=kind, unit_id=unit_id, role=role, text=text[:300],
                              todo=todo[:200], event=event, needs_reason=needs_reason,
                              created_at=at)


def _answerer(by: Membership, unit: Unit) -> None:
    if not by.is_active or not by.unit.is_within(unit) or by.role in {
        Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR}:
        raise Refused(f"只有{unit.name}的人员可以答复。")


# ---------------------------------------------------------------- 督办单


@transaction.atomic
def order_issue(*, by: Membership, unit: Unit | None = None, matter: str, due_on: date | None,
                case: Case | None = None, at: datetime | None = None) -> SupervisionOrder:
    """A supervision order on a case (to its lead unit unless ``unit`` says otherwise) or on a
    unit: what, by when, to whom (seed 000 §十(三), seed 003 §三(二))."""
    at = at or timezone.now()
    if by.role not in ISSUERS:
        raise Refused("只有督查人员和信访工作机构可以下发督办单。")
    home = home_of(by)
    if home is None:
        raise Refused("您所在单位不属于任何信访受理机关。")
    if case is not None:
        case = _visible(by, case)
        unit = unit or lead_unit_of(case)
    errors = {}
    if unit is None:
        errors["unit"] = ("请选择督办对象（单位）" if case is None
                          else "该件尚未交办，请选择督办对象")
    elif not unit.is_within(home):
        errors["unit"] = f"{unit.name}不在{home.name}辖区内"
    elif unit.pk not in units_held_active([unit.pk]):  # read again: the form's may be stale
        errors["unit"] = f"{unit.name}已停用，不能督办"
    if not matter.strip():
        errors["matter"] = "请填写督办事项及要求"
    if due_on is None:
        errors["due_on"] = "请填写答复时限"
    elif due_on < timezone.localtime(at, SH).date():
        errors["due_on"] = "答复时限不能早于今天"
    if errors:
        raise Invalid(errors)
    order = SupervisionOrder.objects.create(
        jurisdiction=home, case=case, unit=unit, matter=matter.strip(), due_at=end_of(due_on),
        issued_by=by.user, issued_role=by.role, issued_unit=by.unit, issued_at=at)
    if case is not None:
        event = append_event(case=case, type="supervision_order_issued", by=by, at=at,
                             payload={"order_unit": unit.name, "text": order.matter[:200],
                                      "due": due_on.isoformat()})
        _notice(case=case, kind=Kind.SUPERVISION_ORDER, unit_id=unit.pk, role="",
                text=f"{case.number} 督办：{order.matter}",
                todo=f"请于{due_on:%Y年%m月%d日}前答复办理情况", event=event, at=at)
    else:
        # An order on a unit, about no case: its inbox still hears of it, with the order's page
        # as the place to act (a notice without a case, as the practices' are).
        from django.urls import reverse

        Notice.objects.create(
            case=None, kind=Kind.SUPERVISION_ORDER, unit=unit, role="",
            text=f"督办：{order.matter}"[:300],
            todo=f"请于{due_on:%Y年%m月%d日}前答复办理情况", needs_reason=True,
            link=reverse("oversight:order", args=[order.pk]), created_at=at)
    _audit(by, "supervision_order", order.pk, at, unit=unit.name,
           case=case.number if case else "", due=due_on.isoformat())
    return order


@transaction.atomic
def order_answer(*, by: Membership, order: SupervisionOrder, answer: str,
                 at: datetime | None = None) -> SupervisionOrder:
    at = at or timezone.now()
    order = SupervisionOrder.objects.select_for_update(of=("self",)).select_related(
        "unit", "case__profile").get(pk=order.pk)
    _answerer(by, order.unit)
    if order.answered_at is not None:
        raise Refused("该督办单已答复。")
    if not answer.strip():
        raise Invalid({"answer": "请填写办理情况"})
    order.answer, order.answered_by, order.answered_at = answer.strip(), by.user, at
    order.answered_late = at > order.due_at
    order.save(update_fields=["answer", "answered_by", "answered_at", "answered_late"])
    if order.case is not None:
        case = order.case
        event = append_event(case=case, type="supervision_order_answered", by=by, at=at,
                             payload={"text": order.answer[:200], "late": order.answered_late})
        late = "（逾期答复）" if order.answered_late else ""
        _notice(case=case, kind=Kind.SUPERVISION_ORDER, unit_id=order.issued_unit_id, role="",
                text=f"{case.number} 督办单已答复{late}：{order.answer}", todo="请审阅答复",
                event=event, at=at, needs_reason=False)
    _audit(by, "supervision_order", order.pk, at, answered=True, late=order.answered_late)
    return order


@transaction.atomic
def bulletin_issue(*, by: Membership, title: str, period_start: date, period_end: date,
                   summary: str, at: datetime | None = None) -> SupervisionBulletin:
    """督查通报 (seed 000 §十(三) "督查后下发督查通报"): the round's orders in the period, their
    figures frozen as issued; each order names the bulletin that reported it first."""
    at = at or timezone.now()
    if by.role not in ISSUERS:
        raise Refused("只有督查人员和信访工作机构可以下发督查通报。")
    home = home_of(by)
    errors = {}
    if not title.strip():
        errors["title"] = "请填写标题"
    if period_end < period_start:
        errors["period_end"] = "截止日期不能早于起始日期"
    if not summary.strip():
        errors["summary"] = "请填写通报内容"
    if home is None:
        errors["title"] = "您所在单位不属于任何信访受理机关"
    if errors:
        raise Invalid(errors)
    start, end = end_of(period_start - timedelta(days=1)), end_of(period_end)
    figures = order_figures(home, start, end, at)
    bulletin = SupervisionBulletin.objects.create(
        jurisdiction=home, title=title.strip(), period_start=period_start,
        period_end=period_end, summary=summary.strip(), figures=figures, issued_by=by.user,
        issued_role=by.role, issued_at=at)
    SupervisionOrder.objects.filter(jurisdiction=home, issued_at__gte=start, issued_at__lt=end,
                                    bulletin=None).update(bulletin=bulletin)
    _audit(by, "supervision_bulletin", bulletin.pk, at, title=bulletin.title)
    return bulletin


# ---------------------------------------------------------------- 核查意见


@consumes("oversight.verification", by="xinfang.oversight.services.verification_record")
@transaction.atomic
def verification_record(*, by: Membership, case: Case, method: str, opinion: str, confirmed: bool,
                        at: datetime | None = None) -> Verification:
    """The upper level's verification of a report-back, with its own record (seed 003 §三(二)
    "市级必须严格核查并报告核查意见"; seed 001 §四(二) "实地跟踪核查"). Where the profile
    asks for it, in the ways it names; sent back, the lead unit is told to handle it again."""
    at = at or timezone.now()
    if by.role not in ISSUERS:
        raise Refused("只有上级信访工作机构或督查人员可以核查。")
    case = _visible(by, case)
    rule = profile_of(case.profile).oversight.verification
    if rule is None:
        raise Refused("本地规则未要求核查报结情况。")
    reported = case.events.filter(type="report_back").order_by("-seq").first()
    if reported is None:
        raise Refused("该件尚未报结，无可核查。")
    # Read under the case's lock (``_visible``): a verdict sent twice (a double click, a retry)
    # or by two inspectors at once is the report-back's one verdict, not two records, two
    # history entries and two notices sending the unit back.
    if Verification.objects.filter(case=case, reported_back=reported).exists():
        raise Refused("该件本次报结已核查，不能重复核查。")
    errors = {}
    if method not in rule.methods:
        allowed = "、".join(VERIFY_LABELS[m] for m in rule.methods)
        errors["method"] = f"本地规则规定的核查方式为：{allowed}"
    if not opinion.strip():
        errors["opinion"] = "请填写核查意见"
    if errors:
        raise Invalid(errors)
    verdict = Verification.Verdict.CONFIRMED if confirmed else Verification.Verdict.RETURNED
    row = Verification.objects.create(
        case=case, reported_back=reported, method=method, opinion=opinion.strip(),
        verdict=verdict, by=by.user, role=by.role, unit=by.unit, at=at)
    event = append_event(case=case, type="report_back_verified", by=by, at=at, payload={
        "method": VERIFY_LABELS[method], "text": row.opinion[:200],
        "verdict": str(Verification.Verdict(verdict).label)})
    if not confirmed:
        lead = lead_unit_of(case)
        _notice(case=case, kind=Kind.RECTIFICATION,
                unit_id=lead.pk if lead else case.jurisdiction_id, role="",
                text=f"{case.number} 上级核查退回：{row.opinion}",
                todo="请按核查意见重新办理并再次报结", event=event, at=at)
    _audit(by, "verification", row.pk, at, case=case.number, verdict=verdict)
    return row


# ---------------------------------------------------------------- 结案审核与整改


def review_rule(case: Case):
    return profile_of(case.profile).oversight.review


@consumes("signatures.registrar_reviews",
          by="xinfang.oversight.services.registrar_refusal")
def registrar_refusal(case: Case, by: Membership) -> str | None:
    """Seed 002 §四(二) 谁登记、谁交办、谁审核: where the profile says so, the person who registered
    (and so handed over) the case reviews it; anyone else is refused, naming the rule."""
    if not profile_of(case.profile).signatures.registrar_reviews or case.registered_by_id is None:
        return None
    if case.registered_by_id == by.user_id:
        return None
    return f"本地规则“谁登记、谁交办、谁审核”：本件由{case.registered_by}登记，须由其审核。"


@consumes("oversight.review", by="xinfang.oversight.services.review_record")
@transaction.atomic
def review_record(*, by: Membership, case: Case, results: dict[str, tuple[bool, str]],
                  rectify_by: date | None = None, at: datetime | None = None) -> CaseReview:
    """One round of the review of a closed case on the profile's points (seed 002 §四(三)).
    ``results``: point name → (passed, remark). Any failed point sends a rectification request
    to the lead unit, due ``rectify_by``; the case counts as resolved once a round passes."""
    at = at or timezone.now()
    if by.role not in ISSUERS:
        raise Refused("只有信访工作机构或督查人员可以审核。")
    case = _visible(by, case)
    rule = review_rule(case)
    if rule is None:
        raise Refused("本地规则未规定结案审核。")
    if case.state not in (c.State.CLOSED, c.State.ARCHIVED):
        raise Refused("只能审核已办结（销号）的信访件。")
    why = registrar_refusal(case, by)
    if why:
        raise Refused(why)
    done = list(CaseReview.objects.filter(case=case).select_related("rectification")
                .order_by("round"))
    if any(r.passed for r in done):
        raise Refused("该件已审核通过。")
    last = done[-1] if done else None
    if last is not None and last.rectification.answered_at is None:
        raise Refused("上一轮整改尚未报告，不能再次审核。")
    errors, points = {}, {}
    for p in rule.points:
        if p.name not in results:
            errors[f"point_{p.name}"] = f"请审核：{p.label}"
            continue
        ok, remark = results[p.name]
        if not ok and not remark.strip():
            errors[f"remark_{p.name}"] = f"“{p.label}”未通过，请写明问题"
        points[p.name] = {"label": p.label, "ok": bool(ok), "remark": remark.strip()}
    passed = not errors and all(p["ok"] for p in points.values())
    if any(not p["ok"] for p in points.values()):
        if rectify_by is None:
            errors["rectify_by"] = "审核未通过，请填写整改时限"
        elif rectify_by < timezone.localtime(at, SH).date():
            errors["rectify_by"] = "整改时限不能早于今天"
    if errors:
        raise Invalid(errors)
    review = CaseReview.objects.create(case=case, round=(last.round + 1) if last else 1,
                                       points=points, passed=passed, by=by.user, role=by.role,
                                       unit=by.unit, at=at)
    failed = review.failed_points
    payload = {"note": "审核通过" if passed else "审核未通过，须整改"}
    if case.registered_by_id is not None:  # 谁登记、谁审核: both recorded with the review
        payload.update(registrar=case.registered_by.get_username(),
                       reviewer=by.user.get_username())
    if failed:
        payload["failed"] = failed
        payload["due"] = rectify_by.isoformat()
    event = append_event(case=case, type="case_reviewed", by=by, at=at, payload=payload)
    if not passed:
        lead = lead_unit_of(case) or case.jurisdiction
        request = "；".join(f"{p['label']}：{p['remark']}" for p in points.values()
                           if not p["ok"])
        Rectification.objects.create(review=review, case=case, unit=lead, request=request,
                                     due_at=end_of(rectify_by), issued_at=at)
        _notice(case=case, kind=Kind.RECTIFICATION, unit_id=lead.pk, role="",
                text=f"{case.number} 结案审核未通过：{request}",
                todo=f"请于{rectify_by:%Y年%m月%d日}前整改并报告", event=event, at=at)
    _audit(by, "case_review", review.pk, at, case=case.number, passed=passed, failed=failed)
    return review


@transaction.atomic
def rectification_answer(*, by: Membership, rectification: Rectification, answer: str,
                         at: datetime | None = None) -> Rectification:
    at = at or timezone.now()
    r = Rectification.objects.select_for_update(of=("self",)).select_related(
        "unit", "review", "case__profile").get(pk=rectification.pk)
    _answerer(by, r.unit)
    if r.answered_at is not None:
        raise Refused("该整改要求已报告。")
    if not answer.strip():
        raise Invalid({"answer": "请填写整改情况"})
    r.answer, r.answered_by, r.answered_at = answer.strip(), by.user, at
    r.answered_late = at > r.due_at
    r.save(update_fields=["answer", "answered_by", "answered_at", "answered_late"])
    event = append_event(case=r.case, type="rectification_answered", by=by, at=at,
                         payload={"text": r.answer[:200], "late": r.answered_late})
    late = "（逾期）" if r.answered_late else ""
    _notice(case=r.case, kind=Kind.RECTIFICATION, unit_id=r.review.unit_id, role="",
            text=f"{r.case.number} 整改情况已报告{late}：{r.answer}", todo="请再次审核",
            event=event, at=at)
    _audit(by, "rectification", r.pk, at, late=r.answered_late)
    return r


# ---------------------------------------------------------------- 代办


def proxy_rule(case: Case):
    return profile_of(case.profile).oversight.proxy


@consumes("oversight.proxy", by="xinfang.oversight.services.proxy_take")
@transaction.atomic
def proxy_take(*, by: Membership, case: Case, agent: Membership, helps: list[str],
               note: str = "", at: datetime | None = None) -> ProxyHandling:
    """Mark a case as proxied (代办, seed 004 §二(三) 三帮一办): the agent takes it on, or the
    office hands it to an agent. The mark is what the proxy rates count."""
    at = at or timezone.now()
    if by.pk != agent.pk and by.role not in PROXY_ASSIGNERS:
        raise Refused("只有代办员本人或信访工作机构可以确定代办。")
    case = _visible(by, case)
    rule = proxy_rule(case)
    if rule is None:
        raise Refused("本地规则未建立信访代办制度。")
    errors = {}
    if agent.role != Role.PROXY_AGENT or not agent.is_active:
        errors["agent"] = "请选择代办员"
    elif not cases_for(agent).filter(pk=case.pk).exists():
        who = agent.user.full_name or agent.user.username
        errors["agent"] = f"{who}无权查看该件（未交办其单位）"
    unknown = [h for h in helps if h not in rule.helps]
    if not helps:
        errors["helps"] = "请选择代办内容"
    elif unknown:
        errors["helps"] = f"本地规则中没有：{'、'.join(unknown)}"
    if case.state in (c.State.CLOSED, c.State.ARCHIVED, c.State.MERGED, c.State.DECLINED):
        errors["case"] = "该件已办结，不能再代办"
    if ProxyHandling.objects.filter(case=case).exists():
        errors["case"] = "该件已有代办员"
    if errors:
        raise Invalid(errors)
    row = ProxyHandling.objects.create(case=case, agent=agent.user, agent_unit=agent.unit,
                                       helps=list(helps), note=note.strip(), taken_by=by.user,
                                       taken_at=at)
    who = agent.user.full_name or agent.user.username
    event = append_event(case=case, type="proxy_taken", by=by, at=at,
                         payload={"agent": who, "helps": list(helps), "note": row.note})
    if by.pk != agent.pk:
        _notice(case=case, kind=Kind.ASSIGNED, unit_id=agent.unit_id, role=Role.PROXY_AGENT,
                text=f"{case.number} 由您代办（{'、'.join(helps)}）",
                todo="请联系信访人，代为办理", event=event, at=at, needs_reason=False)
    _audit(by, "proxy", row.pk, at, case=case.number, agent=who)
    return row


@transaction.atomic
def proxy_step_record(*, by: Membership, case: Case, help: str, text: str,
                      at: datetime | None = None):
    """What the proxy agent did on a case it carries — into the case's history."""
    at = at or timezone.now()
    case = _visible(by, case)
    row = ProxyHandling.objects.filter(case=case).first()
    if row is None or row.agent_id != by.user_id:
        raise Refused("您不是该件的代办员。")
    errors = {}
    if help not in row.helps:
        errors["help"] = "请选择本件代办内容之一"
    if not text.strip():
        errors["text"] = "请填写代办情况"
    if errors:
        raise Invalid(errors)
    return append_event(case=case, type="proxy_step", by=by, at=at,
                        payload={"help": help, "text": text.strip()[:500]})


# ---------------------------------------------------------------- the sweep


def oversight_sweep(*, at: datetime | None = None) -> dict:
    """Flag every order and rectification still unanswered past its due instant: a history
    entry on its case and an overdue notice to the unit that must answer and to the one that
    asked. Each is claimed with a conditional update, so two sweeps flag it once."""
    at = at or timezone.now()
    done = {"orders": 0, "rectifications": 0}
    due = SupervisionOrder.objects.filter(answered_at=None, late_flagged_at=None, due_at__lt=at)
    for order in due.select_related("case__profile", "unit").order_by("due_at")[:1000]:
        with transaction.atomic():
            if not SupervisionOrder.objects.filter(pk=order.pk, late_flagged_at=None,
                                                   answered_at=None).update(late_flagged_at=at):
                continue
            done["orders"] += 1
            if order.case is None:
                continue
            event = append_event(case=order.case, type="supervision_order_overdue", by=None,
                                 at=at, actor_role="system",
                                 payload={"order_unit": order.unit.name})
            for unit_id, todo in ((order.unit_id, "请立即答复督办单，并说明逾期原因"),
                                  (order.issued_unit_id, "督办对象逾期未答复，请跟踪")):
                _notice(case=order.case, kind=Kind.OVERDUE, unit_id=unit_id, role="",
                        text=f"{order.case.number} 督办单逾期未答复（{order.unit.name}）",
                        todo=todo, event=event, at=at)
    due = Rectification.objects.filter(answered_at=None, late_flagged_at=None, due_at__lt=at)
    for r in due.select_related("case__profile", "unit", "review").order_by("due_at")[:1000]:
        with transaction.atomic():
            if not Rectification.objects.filter(pk=r.pk, late_flagged_at=None,
                                                answered_at=None).update(late_flagged_at=at):
                continue
            done["rectifications"] += 1
            event = append_event(case=r.case, type="rectification_overdue", by=None, at=at,
                                 actor_role="system", payload={"unit": r.unit.name})
            for unit_id, todo in ((r.unit_id, "请立即整改并报告，说明逾期原因"),
                                  (r.review.unit_id, "整改逾期未报告，请跟踪")):
                _notice(case=r.case, kind=Kind.OVERDUE, unit_id=unit_id, role="",
                        text=f"{r.case.number} 整改逾期未报告（{r.unit.name}）", todo=todo,
                        event=event, at=at)
    return done


def profile_of_home(home: Unit | None) -> Profile | None:
    from xinfang.rules.store import current_version

    if home is None or not home.profile_code:
        return None
    return profile_of(current_version(home.profile_code))
