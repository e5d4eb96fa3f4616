"""接 — registration: one case, its petitioners and demands, a number, and the first clocks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from xinfang.org.choices import Level, Role
from xinfang.org.models import Membership, Unit
from xinfang.rules.consumers import consumes
from xinfang.rules.engine import apply_event
from xinfang.rules.store import current_version, profile_of
from xinfang.security.crypto import get_keyring
from xinfang.security.idcard import validate_id_number, validate_phone
from xinfang.security.names import MAX_LENGTH as NAME_MAX_LENGTH
from xinfang.security.names import tidy_name

from .. import choices as c
from ..bulk import insert_returning
from ..errors import Refused
from ..facts import case_facts
from ..models import (
    Assignment,
    Case,
    CaseEvent,
    CasePetitioner,
    Clock,
    Demand,
    Petitioner,
    Respondent,
)
from ..numbering import next_number
from .against_office import DISCIPLINE, Destination, destination, respondent_rows
from .base import Invalid, append_event, is_office_of, now, unit_jurisdiction
from .supervision import evaluate_warnings

QUERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


@dataclass
class PetitionerInput:
    name: str
    role: str = c.PetitionerRole.MAIN
    gender: str = ""
    birth_year: int | None = None
    id_number: str = ""
    phone: str = ""
    address: str = ""
    exited_household: bool = False
    monitored_household: bool = False
    # This person asks that their identity be kept from the handling units (the registration's
    # ``confidential`` asks it for everyone in it). Once asked, it stays with the person.
    confidential: bool = False
    # The person on file the clerk chose from the earlier cases offered (same person, no ID
    # number needed); the fields above are then ignored.
    petitioner_id: int | None = None


@dataclass
class DemandInput:
    text: str
    category: str


@dataclass
class RespondentInput:
    name: str
    position: str = ""
    unit: Unit | None = None
    user_id: int | None = None


@dataclass
class Registration:
    channel: str
    matter: str
    received_at: datetime
    petitioners: list[PetitionerInput]
    demands: list[DemandInput]
    kind: str = c.Kind.PETITION
    matter_type: str = c.MatterType.REQUEST
    headcount: int = 1
    township: Unit | None = None
    village: Unit | None = None
    source_level: str = c.SourceLevel.NONE
    source_office: str = ""
    source_reference: str = ""
    leader_instruction: str = ""
    leader_instruction_level: str = ""
    key_case: bool = False
    level_skipping: bool = False
    extreme_behaviour: bool = False
    confidential: bool = False
    concerns_misconduct: bool = False
    concerns_policy: bool = False
    concerns_execution: bool = False
    concerns_several_units: bool = False
    respondents: list[RespondentInput] = field(default_factory=list)
    review_of: Case | None = None
    # The earlier case of the same matter the clerk confirmed (issue 14): this case repeats it.
    # None: the matching decides — the best earlier case of the same person and the same matter
    # at or above the profile's ``matching.confirm_at``, unless ``match`` is off.
    repeat_of: Case | None = None
    # Earlier cases the clerk said are not the same: recorded, never offered or linked again.
    not_same: list[Case] = field(default_factory=list)
    match: bool = True


@consumes("categories", "collective.max_representatives",
          by="xinfang.cases.services.registration._validate")
def _validate(data: Registration, jurisdiction: Unit, categories: tuple[str, ...], at, *,
              max_representatives: int = 5) -> dict:
    errors: dict[str, str] = {}
    if data.channel not in c.Channel.values:
        errors["channel"] = f"信访形式“{data.channel}”无效"
    if data.kind not in c.Kind.values:
        errors["kind"] = f"类型“{data.kind}”无效"
    if not data.matter.strip():
        errors["matter"] = "请填写信访事项"
    if data.received_at > at:
        errors["received_at"] = "信访时间不能晚于当前时间"
    if data.headcount < 1:
        errors["headcount"] = "来访人数至少为1"
    mains = [p for p in data.petitioners if p.role in c.PETITIONING_ROLES]
    if data.kind != c.Kind.OPINION_INCIDENT and not mains:
        errors["petitioners"] = "至少登记一名信访人或代表"
    for i, p in enumerate(data.petitioners):
        if p.petitioner_id and not Petitioner.objects.filter(pk=p.petitioner_id).exists():
            errors[f"petitioners[{i}].petitioner_id"] = "所选信访人不存在"
        p.name = tidy_name(p.name)
        if not p.name and not p.petitioner_id:
            errors[f"petitioners[{i}].name"] = "请填写姓名"
        elif len(p.name) > NAME_MAX_LENGTH:
            errors[f"petitioners[{i}].name"] = f"姓名不能超过{NAME_MAX_LENGTH}个字"
        if p.role not in c.PetitionerRole.values:
            errors[f"petitioners[{i}].role"] = f"身份“{p.role}”无效"
        if p.id_number:
            try:
                p.id_number = validate_id_number(p.id_number)
            except ValueError as e:
                errors[f"petitioners[{i}].id_number"] = str(e)
        if p.phone:
            try:
                p.phone = validate_phone(p.phone)
            except ValueError as e:
                errors[f"petitioners[{i}].phone"] = str(e)
    reps = [p for p in data.petitioners if p.role == c.PetitionerRole.REPRESENTATIVE]
    if len(reps) > max_representatives:
        errors["petitioners"] = (f"集体访推选代表不超过{max_representatives}人"
                                 f"（本次登记{len(reps)}名代表）")
    if not data.demands:
        errors["demands"] = "至少登记一项诉求"
    for i, d in enumerate(data.demands):
        if not d.text.strip():
            errors[f"demands[{i}].text"] = "请填写诉求内容"
        # A review keeps the original demands as they were registered below, whatever this
        # office's own category list (the city reviews a county's 残疾人补贴 case).
        if categories and data.review_of is None and d.category not in categories:
            errors[f"demands[{i}].category"] = (
                f"问题类别“{d.category}”不在本地类别中（{'、'.join(categories)}）"
            )
    if data.township and not data.township.is_within(jurisdiction):
        errors["township"] = f"{data.township}不属于{jurisdiction}"
    if data.village and (not data.township or data.village.parent_id != data.township.pk):
        errors["village"] = "所选村（社区）不属于所选乡镇"
    if data.village and data.village.level != Level.VILLAGE:
        errors["village"] = f"{data.village}不是村（社区）"
    return errors


def _petitioner(p: PetitionerInput, data: Registration, *, known: Petitioner | None = None,
                holder: tuple[str, Petitioner | None] | None = None) -> Petitioner:
    """The person the clerk linked, or the same ID number, or ``known`` (the person the matching
    found for the main petitioner: the same phone and a like name, or the person of the earlier
    case of the same matter); otherwise a new person. ``holder``: the matching's answer to who
    holds an ID number (``MatchQuery.holder``), so that it is not looked up twice."""
    if known is not None and (p.petitioner_id == known.pk or not p.petitioner_id and (
            not p.id_number or known.id_number == p.id_number)):
        return known
    if p.petitioner_id:
        return Petitioner.objects.get(pk=p.petitioner_id)
    if p.id_number:
        if holder is not None and holder[0] == p.id_number:
            found = holder[1]
        else:
            index = get_keyring().blind_index(p.id_number, purpose="id_number")
            found = Petitioner.objects.filter(id_number_index=index).first()
        if found is not None:
            return found
    created = Petitioner.objects.create(
        name=tidy_name(p.name),
        gender=p.gender,
        birth_year=p.birth_year,
        id_number=p.id_number,
        phone=p.phone,
        address=p.address,
        township=data.township,
        village=data.village,
        exited_household=p.exited_household,
        monitored_household=p.monitored_household,
        confidential=data.confidential or p.confidential,
    )
    created.__dict__[NEW_PERSON] = True
    return created


NEW_PERSON = "_xf_new_person"  # created by this registration: no earlier case of theirs


def _confidential_people(petitioners: list[tuple[Petitioner, str]], data: Registration) -> set[int]:
    """The people of this registration whose identity is kept from the handling units: those
    asking now, and those who asked in any earlier case (repeat petitions, linked people). A
    person asking now is marked for good."""
    asking = {
        petitioner.pk
        for (petitioner, _role), p in zip(petitioners, data.petitioners, strict=True)
        if data.confidential or p.confidential
    }
    newly = [p for p, _role in petitioners if p.pk in asking and not p.confidential]
    if newly:
        Petitioner.objects.filter(pk__in=[p.pk for p in newly]).update(confidential=True)
        for p in newly:
            p.confidential = True
    return asking | {p.pk for p, _role in petitioners if p.confidential}


@dataclass
class _Matched:
    repeat_of: Case | None = None
    person: Petitioner | None = None  # the main petitioner's person on file, when sure
    candidates: list = field(default_factory=list)
    confirmed: object = None  # the candidate confirmed (by the clerk or by the threshold)
    holder: tuple | None = None  # the main petitioner's ID number and its holder on file


@consumes("matching.confirm_at", by="xinfang.cases.services.registration._match")
def _match(*, by: Membership, data: Registration, profile) -> _Matched:
    """The earlier case this registration repeats and the person on file of its main petitioner
    (``xinfang.matching``): the clerk's choice, else the best candidate of the same person and
    the same matter at or above the profile's threshold. A person is taken without the clerk's
    word only on an ID number or a phone number with a like name (a score of 0.9 or more)."""
    from xinfang.matching.selectors import MatchQuery, find_matches

    from ..selectors import cases_for

    out = _Matched()
    jurisdiction = by.unit if by.unit.profile_code else unit_jurisdiction(by.unit)
    main = next((p for p in data.petitioners if p.role in c.PETITIONING_ROLES), None)
    rejected = {x.pk for x in data.not_same}
    if data.repeat_of is not None:
        if not cases_for(by).filter(pk=data.repeat_of.pk).exists():
            raise Invalid({"repeat_of": "所选的此前信访件不存在或无权查看"})
        if data.repeat_of.pk in rejected:
            raise Invalid({"repeat_of": "同一信访件不能既确认又否认为同一事项"})
    if main is None or not data.match:
        out.repeat_of = data.repeat_of
        return out
    query = MatchQuery(
        name=main.name, id_number=main.id_number, phone=main.phone, township=data.township,
        village=data.village, matter=data.matter, demands=[d.text for d in data.demands],
        categories=[d.category for d in data.demands], received_at=data.received_at,
        exclude=rejected, petitioner_id=main.petitioner_id,
    )
    # Registration links within its own jurisdiction (as the old same-person rule did) and
    # offers nothing: no door to work out, the village only for a case the clerk chose.
    out.candidates = find_matches(by=by, query=query, before=data.received_at,
                                  village=data.repeat_of is not None,
                                  scope=Case.objects.filter(jurisdiction=jurisdiction))
    out.holder = query.holder
    if data.repeat_of is not None:
        out.repeat_of = data.repeat_of
        out.confirmed = next((x for x in out.candidates if x.case.pk == data.repeat_of.pk), None)
    else:
        threshold = profile.matching.confirm_at
        best = next((x for x in out.candidates if x.same == "matter" and x.petitioner_id
                     and x.score >= threshold), None)
        if best is not None:
            out.repeat_of, out.confirmed = best.case, best
    if out.confirmed is not None and out.confirmed.petitioner is not None:
        out.person = out.confirmed.petitioner
    else:
        sure = [x for x in out.candidates if x.petitioner is not None and x.person_score >= 0.9]
        if sure:
            out.person = sure[0].petitioner
    return out


consumes("case_number_pattern", "collective.min_headcount", "reply_modes.when",
         "reply_modes.mode", by="xinfang.cases.services.registration.case_register")


@transaction.atomic
def case_register(*, by: Membership, data: Registration, at: datetime | None = None) -> Case:
    """Register a case. A petition against the registering office itself is registered where the
    profile's ``against_office`` rule sends it; the returned case then carries ``routed`` (a
    :class:`Destination`, else None) so the caller can tell the clerk where it went."""
    at = at or now()
    if by.role != Role.CLERK:
        raise Refused(f"登记须由经办人办理，您当前的角色是{Role(by.role).label}。")
    jurisdiction = by.unit if by.unit.profile_code else unit_jurisdiction(by.unit)
    if jurisdiction is None:
        raise Refused(f"{by.unit}及其上级均未设置规则配置，不能登记信访件。")
    probe = Case(jurisdiction=jurisdiction)
    if not is_office_of(by.unit, probe):
        raise Refused(f"{by.unit}不是信访受理机关，不能登记。")
    version = current_version(jurisdiction.profile_code)
    profile = profile_of(version)
    errors = _validate(data, jurisdiction, profile.categories, at,
                       max_representatives=profile.collective.max_representatives)
    if errors:
        raise Invalid(errors)
    respondents = respondent_rows(data.respondents)
    routed = destination(
        by=by, jurisdiction=jurisdiction, rule=profile.against_office, rows=respondents
    )
    if routed is not None and routed.jurisdiction != jurisdiction:
        # Registered as a case of the office above, under its rules and its numbering.
        jurisdiction = routed.jurisdiction
        version = current_version(jurisdiction.profile_code)
        profile = profile_of(version)

    matched = _match(by=by, data=data, profile=profile)
    main_input = next((p for p in data.petitioners if p.role in c.PETITIONING_ROLES), None)
    petitioners = [
        (_petitioner(p, data, known=matched.person if p is main_input else None,
                     holder=matched.holder if p is main_input else None), p.role)
        for p in data.petitioners
    ]
    secret = _confidential_people(petitioners, data)
    mains = [p for p, role in petitioners if role in c.PETITIONING_ROLES]
    repeat_of = matched.repeat_of
    year = data.received_at.astimezone(jurisdiction_tz()).year
    seq, number = next_number(
        jurisdiction=jurisdiction, year=year, pattern=profile.case_number_pattern
    )
    case = Case(
        number=number,
        jurisdiction=jurisdiction,
        year=year,
        seq=seq,
        profile=version,
        state=c.State.REGISTERED,
        kind=data.kind,
        channel=data.channel,
        matter_type=data.matter_type,
        received_at=data.received_at,
        registered_at=at,
        registered_by=by.user,
        matter=data.matter.strip(),
        headcount=data.headcount,
        township=data.township,
        village=data.village,
        source_level=data.source_level,
        source_office=data.source_office,
        source_reference=data.source_reference,
        leader_instruction=data.leader_instruction,
        leader_instruction_level=data.leader_instruction_level,
        key_case=data.key_case,
        repeat_count=repeat_of.repeat_count + 1 if repeat_of is not None else 0,
        repeat_of=repeat_of,
        matter_root_id=repeat_of.matter_id if repeat_of is not None else None,
        level_skipping=data.level_skipping,
        collective=max(data.headcount, len(mains)) >= profile.collective.min_headcount,
        extreme_behaviour=data.extreme_behaviour,
        exited_household=any(p.exited_household for p in data.petitioners),
        monitored_household=any(p.monitored_household for p in data.petitioners),
        confidential=data.confidential or bool(secret),
        concerns_misconduct=data.concerns_misconduct,
        concerns_policy=data.concerns_policy,
        concerns_execution=data.concerns_execution,
        concerns_several_units=data.concerns_several_units,
        review_of=data.review_of,
        query_code="".join(secrets.choice(QUERY_ALPHABET) for _ in range(8)),
    )
    # The facts are known before the case is written (its demands are the input's), so the
    # reply mode and the clocks' next due instant go in with the INSERT; the clocks, people,
    # demands and respondents go in one statement each.
    facts = case_facts(case, categories=[d.category for d in data.demands])
    written = [rule for rule in profile.reply_modes if rule.when.matches(facts)]
    if written:
        case.reply_mode_required = written[0].mode
    started: list = []
    changes = apply_event(case, profile, "registered", data.received_at, facts, new_case=True,
                          started=started)
    insert_returning([case])
    insert_returning(started)
    links: dict[int, CasePetitioner] = {}
    for petitioner, role in petitioners:  # the same person twice keeps the first role
        links.setdefault(petitioner.pk, CasePetitioner(case=case, petitioner=petitioner, role=role,
                                                       confidential=petitioner.pk in secret))
    insert_returning(links.values())
    demands = insert_returning(
        Demand(case=case, seq=i, text=d.text.strip(), category=d.category)
        for i, d in enumerate(data.demands, start=1)
    )
    against = insert_returning(
        Respondent(case=case, name=r.name, position=r.position, unit=r.unit, user_id=r.user_id)
        for r in respondents
    )

    registered = append_event(
        case=case,
        type="register",
        by=by,
        at=at,
        to_state=c.State.REGISTERED,
        payload={
            "event": "registered",
            "number": number,
            "repeat_count": case.repeat_count,
            "repeat_of": case.repeat_of.number if case.repeat_of else None,
            "collective": case.collective,
            "reply_mode_required": case.reply_mode_required,
            "clocks": changes,
            **_match_payload(case, matched, data),
        },
    )
    _record_match(case=case, matched=matched, data=data, by=by, at=at)
    if routed is not None:
        _route_against_office(case=case, routed=routed, by=by, at=at, profile=profile)
    # A backdated registration raises its warnings at the received instant, as its clocks start.
    warned = evaluate_warnings(case=case, profile=profile, at=at,
                               raised_at=min(data.received_at, at))
    case.routed = routed
    # Told to the clerk at once: a case outside the scope is to be declined, not proposed.
    from .scope import scope_reasons

    # The people on file before this registration (a new person has no other case) and the
    # demands' categories are known here: the §19 check reads neither again.
    known = [link.petitioner_id for link in links.values()
             if link.role in c.PETITIONING_ROLES and not link.petitioner.__dict__.get(NEW_PERSON)]
    case.scope_reasons = scope_reasons(case, profile, people=known,
                                       categories=[d.category for d in data.demands])
    # A warning writes its notice's clock and its own history entry: then those are read back.
    whole = not warned and routed is None
    case.written = Written(links=list(links.values()), demands=demands, respondents=against,
                           clocks=sorted(started, key=lambda k: (k.due_at, k.pk)) if whole
                           else None,
                           events=[registered] if whole else None)
    return case


@dataclass(frozen=True)
class Written:
    """The rows a registration wrote beside the case, as written: an answer can show them
    without reading them back. ``clocks`` and ``events`` are None when a warning added to them
    (read those back)."""

    links: list[CasePetitioner]
    demands: list[Demand]
    respondents: list[Respondent]
    clocks: list[Clock] | None
    events: list[CaseEvent] | None


def _match_payload(case: Case, matched: _Matched, data: Registration) -> dict:
    """What the register event tells of the matching: the earlier visit and why, the rejected."""
    out: dict = {}
    if case.repeat_of is not None:
        x = matched.confirmed
        out["match"] = {"score": round(x.score, 2) if x else None,
                        "reasons": x.reasons if x else ["经办人确认"],
                        "by": "clerk" if data.repeat_of is not None else "threshold"}
    if data.not_same:
        out["not_same"] = [x.number for x in data.not_same]
    return out


def _record_match(*, case: Case, matched: _Matched, data: Registration, by: Membership,
                  at: datetime) -> None:
    """The clerk's verdicts, kept so a rejected case is not offered again (one statement; the
    register event carries them for the history)."""
    from xinfang.matching.models import MatchDecision, Verdict

    offered = {x.case.pk: x for x in matched.candidates}
    rows = []
    # A link the threshold made is on the case (repeat_of) and told by its register event; a
    # decision row is the clerk's own word.
    if case.repeat_of is not None and data.repeat_of is not None:
        x = matched.confirmed
        rows.append(MatchDecision(earlier=case.repeat_of, later=case, verdict=Verdict.SAME,
                                  score=round(x.score, 2) if x else None,
                                  reasons=x.reasons if x else ["经办人确认"],
                                  decided_by=by.user, decided_at=at))
    for earlier in data.not_same:
        x = offered.get(earlier.pk)
        rows.append(MatchDecision(earlier=earlier, later=case, verdict=Verdict.NOT_SAME,
                                  score=round(x.score, 2) if x else None,
                                  reasons=x.reasons if x else [], decided_by=by.user,
                                  decided_at=at))
    if rows:
        MatchDecision.objects.bulk_create(rows)


def _route_against_office(*, case: Case, routed: Destination, by: Membership, at, profile) -> None:
    """Record where the case went; to the discipline commission, assign it there now (as
    ``transfer_to_discipline`` would), so its clocks stop waiting for an office that may not act."""
    payload = routed.payload(registered_by=by.unit)
    to_state = c.State.REGISTERED
    if routed.route == DISCIPLINE:
        Assignment.objects.create(
            case=case,
            unit=routed.unit,
            role=c.AssignmentRole.LEAD,
            assigned_at=at,
            assigned_by=by.user,
            receiver_name="",
        )
        to_state = c.State.ASSIGNED
        case.state, case.transferred_to_discipline = to_state, True
        case.save(update_fields=["state", "transferred_to_discipline"])
        changes = apply_event(case, profile, "transferred_to_discipline", at, case_facts(case))
        if changes:
            payload["clocks"] = changes
    append_event(
        case=case,
        type="route_against_office",
        by=by,
        at=at,
        from_state=c.State.REGISTERED,
        to_state=to_state,
        payload=payload,
    )


def jurisdiction_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")
