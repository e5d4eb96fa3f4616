"""Cases as a province's offices produce them, generated in the order they arrive.

Each case takes a state that fits its age — recent cases spread over the open states, older ones
mostly closed or archived, a backlog stuck in between (whose running clocks are overdue) — and
carries what that state implies in the product: the history events of every step taken, the
signatures, assignments (lead, sometimes an assisting unit) and sign-for, contacts, reports,
findings, extensions, the acceptance notice and the decision letter with its delivery, and the
clocks (running, stopped on time or late; some overdue, some due soon). Petitioners are drawn
from a per-county pool with a skew, so repeat petitioners (``repeat_count``, ``repeat_of``) and
reviews and merges of earlier cases occur as they do in an office.
"""

from __future__ import annotations

import random
import secrets
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from xinfang.cases import choices as c
from xinfang.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CasePetitioner,
    Contact,
    Delivery,
    Demand,
    Document,
    Extension,
    Petitioner,
    Report,
    Respondent,
    Signature,
)
from xinfang.cases.models import Clock as ClockModel
from xinfang.registers.models import BacklogCase, BacklogProgress
from xinfang.rules.profile import Profile
from xinfang.security.names import name_index

from .people import PETITIONER_FIELDS, make_person, petitioner_columns
from .tree import County, Tree
from .writer import Loader

S = c.State
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
# The main path through the workflow: the event that reaches each state, its actor, and when it
# happens (days after receipt) in an unhurried case.
STEPS = [
    (S.REGISTERED, "register", "clerk", 0.0),
    (S.PROPOSED, "propose", "clerk", 0.5),
    (S.SIGNED_OFF, "sign_off", "approver", 1.0),
    (S.ASSIGNED, "assign", "clerk", 2.0),
    (S.IN_PROGRESS, "sign_for", "lead", 3.0),
    (S.LETTER_DRAFTED, "draft_letter", "lead", 25.0),
    (S.LETTER_APPROVED, "approve_letter", "approver", 27.0),
    (S.LETTER_ISSUED, "issue_letter", "clerk", 28.0),
    (S.DELIVERED, "record_delivery", "clerk", 30.0),
    (S.CLOSED, "close", "approver", 40.0),
    (S.ARCHIVED, "archive", "clerk", 100.0),
]
RANK = {state: i for i, (state, *_rest) in enumerate(STEPS)}
RANK |= {S.AWAITING_COUNTERSIGN: RANK[S.PROPOSED], S.EXTENSION_REQUESTED: RANK[S.IN_PROGRESS],
         S.DECLINED: 0, S.MERGED: 0}
IN_PROGRESS, LETTER, ISSUED, DELIVERED, CLOSED = (
    RANK[S.IN_PROGRESS], RANK[S.LETTER_DRAFTED], RANK[S.LETTER_ISSUED], RANK[S.DELIVERED],
    RANK[S.CLOSED])

# State weights by the case's age in days: (up to this age, {state: weight}).
AGE_STATES = [
    (7, {S.REGISTERED: 30, S.PROPOSED: 15, S.AWAITING_COUNTERSIGN: 3, S.SIGNED_OFF: 10,
         S.ASSIGNED: 15, S.IN_PROGRESS: 15, S.DECLINED: 8, S.MERGED: 2, S.EXTENSION_REQUESTED: 0.2,
         S.LETTER_DRAFTED: 0.5, S.LETTER_APPROVED: 0.2, S.LETTER_ISSUED: 0.2, S.DELIVERED: 0.2,
         S.CLOSED: 0.5, S.ARCHIVED: 0.01}),
    (120, {S.REGISTERED: 3, S.PROPOSED: 2, S.AWAITING_COUNTERSIGN: 0.5, S.SIGNED_OFF: 2,
           S.ASSIGNED: 4, S.IN_PROGRESS: 30, S.EXTENSION_REQUESTED: 2, S.LETTER_DRAFTED: 5,
           S.LETTER_APPROVED: 2, S.LETTER_ISSUED: 3, S.DELIVERED: 6, S.CLOSED: 25, S.DECLINED: 7,
           S.MERGED: 1, S.ARCHIVED: 0.5}),
    (10**6, {S.REGISTERED: 0.2, S.PROPOSED: 0.1, S.AWAITING_COUNTERSIGN: 0.05, S.SIGNED_OFF: 0.1,
             S.ASSIGNED: 0.3, S.IN_PROGRESS: 2, S.EXTENSION_REQUESTED: 0.3, S.LETTER_DRAFTED: 0.4,
             S.LETTER_APPROVED: 0.2, S.LETTER_ISSUED: 0.3, S.DELIVERED: 0.8, S.CLOSED: 30,
             S.ARCHIVED: 55, S.DECLINED: 6, S.MERGED: 1.5}),
]
_AGE_TABLES = [(limit, list(w), list(accumulate(w.values()))) for limit, w in AGE_STATES]
KINDS = [(c.Kind.PETITION, 90), (c.Kind.OPINION_INCIDENT, 4), (c.Kind.REVIEW, 4),
         (c.Kind.REREVIEW, 2)]
CHANNELS = [(c.Channel.LETTER, 20), (c.Channel.VISIT, 30), (c.Channel.PHONE, 20),
            (c.Channel.ONLINE, 20), (c.Channel.REFERRAL, 6), (c.Channel.SCREENING, 3),
            (c.Channel.MEDIA, 1)]
MATTER_TYPES = [(c.MatterType.REQUEST, 70), (c.MatterType.ACCUSATION, 15),
                (c.MatterType.SUGGESTION, 15)]
SOURCES = [(c.SourceLevel.NONE, 80), (c.SourceLevel.VILLAGE, 1), (c.SourceLevel.TOWNSHIP, 2),
           (c.SourceLevel.COUNTY, 5), (c.SourceLevel.CITY, 6), (c.SourceLevel.PROVINCE, 4),
           (c.SourceLevel.CENTRAL, 2)]
TEMPLATES = ["申请{c}至今未落实，要求尽快办理", "认为{c}认定结果不公，要求重新核查",
             "反映村干部在{c}中优亲厚友", "要求落实{c}相关政策并答复", "对{c}资金发放有异议",
             "反映{c}工作中存在弄虚作假", "咨询{c}办理进度，多次反映未果"]
PAGE_DOC = "经调查核实，现将处理意见告知如下：{c}问题已责成相关单位依法依规处理。"


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _state_for(rng: random.Random, age_days: float) -> str:
    for limit, states, cum in _AGE_TABLES:
        if age_days <= limit:
            return states[bisect(cum, rng.random() * cum[-1])]
    raise AssertionError


@dataclass
class Stats:
    cases: int = 0
    people: int = 0
    encrypt_seconds: float = 0.0
    backlog: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


@dataclass
class Tables:
    petitioner: object
    case: object
    link: object
    demand: object
    respondent: object
    event: object
    clock: object
    signature: object
    assignment: object
    contact: object
    report: object
    extension: object
    document: object
    delivery: object
    backlog: object
    progress: object


CASE_FIELDS = (
    "id", "number", "jurisdiction_id", "year", "seq", "profile_id", "state", "version", "kind",
    "channel", "matter_type", "received_at", "registered_at", "registered_by_id", "matter",
    "headcount", "township_id", "village_id", "source_level", "source_office", "key_case",
    "repeat_count", "level_skipping", "collective", "extreme_behaviour", "exited_household",
    "monitored_household", "confidential", "concerns_misconduct", "leader_owner_id",
    "repeat_of_id", "matter_root_id", "review_of_id", "merged_into_id", "decline_reason",
    "guidance", "proposal", "rating", "rating_at", "accepted_at", "closed_at", "archived_at",
    "query_code", "reply_delivered_at",
)
EVENT_FIELDS = ("id", "case_id", "seq", "at", "type", "actor_id", "actor_role", "actor_unit_id",
                "from_state", "to_state", "payload", "profile_code", "profile_version")
CLOCK_FIELDS = ("id", "case_id", "name", "kind", "label", "amount", "unit", "started_at",
                "due_at", "status", "stopped_at", "met", "alert_roles", "due_soon_hours", "seed")


BACKLOG_FIELDS = (
    "id", "jurisdiction_id", "case_id", "entry", "first_petition_on", "person_name", "name_index",
    "contact", "exited_or_monitored", "township_id", "village_id", "locality_text", "problem",
    "category", "reason", "owner_leader_id", "owner_leader_text", "responsible_unit_id",
    "responsible_unit_text", "solved", "guided", "assisted", "dealt_by_law", "stable", "note",
    "plan", "plan_deadline", "designated_at", "designated_by_id", "resolved_at", "resolved_by_id",
    "outcome", "updated_at")
# An L2 line's reason, plan and progress, as a county's leaders write them.
BACKLOG_REASONS = ("诉求长期未解决，反复到县信访", "历史遗留问题，政策衔接不畅",
                   "多次交办未化解，信访人情绪激动")
BACKLOG_PLANS = ("包案领导每月见面一次，责任单位限期拿出解决方案",
                 "联合住建、民政部门现场核查，依政策落实补助",
                 "法律顾问参与释法明理，困难部分纳入临时救助")
BACKLOG_STEPS = ("包案领导约见信访人，听取诉求", "责任单位现场核查，形成核查报告",
                 "召开联席会议研究化解方案", "落实临时救助，信访人表示理解")


def open_tables(loader: Loader) -> Tables:
    return Tables(
        petitioner=loader.table(Petitioner, PETITIONER_FIELDS),
        case=loader.table(Case, CASE_FIELDS),
        link=loader.table(CasePetitioner, ("id", "case_id", "petitioner_id", "role")),
        demand=loader.table(Demand, ("id", "case_id", "seq", "text", "category", "finding",
                                     "resolution_class")),
        respondent=loader.table(Respondent, ("id", "case_id", "unit_id", "name", "position")),
        event=loader.table(CaseEvent, EVENT_FIELDS),
        clock=loader.table(ClockModel, CLOCK_FIELDS),
        signature=loader.table(Signature, ("id", "case_id", "stage", "role", "user_id", "at")),
        assignment=loader.table(Assignment, (
            "id", "case_id", "unit_id", "role", "status", "assigned_at", "assigned_by_id",
            "receiver_name", "responsible_person", "signed_for_at", "signed_for_by_id")),
        contact=loader.table(Contact, ("id", "case_id", "kind", "at", "by_id", "note")),
        report=loader.table(Report, ("id", "case_id", "kind", "text", "at", "by_id")),
        extension=loader.table(Extension, (
            "id", "case_id", "requested_at", "requested_by_id", "reason", "progress_report",
            "expected_completion", "decided_at", "decided_by_id", "approved")),
        document=loader.table(Document, ("id", "case_id", "kind", "status", "body", "created_at",
                                         "created_by_id", "approved_at", "approved_by_id",
                                         "issued_at")),
        delivery=loader.table(Delivery, (
            "id", "case_id", "document_id", "mode", "delivered_at", "deliverer", "recipient",
            "receipt_signed", "recorded_by_id")),
        backlog=loader.table(BacklogCase, BACKLOG_FIELDS),
        progress=loader.table(BacklogProgress, ("id", "backlog_id", "at", "by_id", "text")),
    )


class Ids(dict):
    def next(self, name: str) -> int:
        self[name] = self.get(name, 0) + 1
        return self[name]


class CaseGenerator:
    def __init__(self, *, rng: random.Random, tree: Tree, profile: Profile, profile_id: int,
                 profile_code: str, profile_version: int, tables: Tables, ring, now: datetime,
                 cases: int, years: float, busy_share: float, people_ratio: float,
                 max_people: int, long_history: float = 0.003, trail=None):
        self.trail = trail  # ``trail.Trail``: the audit trail's reads of each case, or None
        self.rng, self.tree, self.profile, self.t, self.ring = rng, tree, profile, tables, ring
        self.profile_id, self.profile_code, self.profile_version = (
            profile_id, profile_code, profile_version)
        self.now, self.n, self.years = now, cases, years
        self.long_history = long_history
        self.ids = Ids()
        self.stats = Stats()
        counties = tree.counties
        weights = [busy_share] + [rng.uniform(0.4, 1.6) for _ in counties[1:]]
        rest = sum(weights[1:]) or 1.0
        weights = [busy_share] + [w / rest * (1 - busy_share) for w in weights[1:]]
        for county, w in zip(counties, weights, strict=True):
            county.weight = w
        self.county_cum = list(accumulate(weights))
        total_pool = min(max_people, max(10, int(cases * people_ratio)))
        self.pool_size = {k.index: max(5, int(total_pool * k.weight)) for k in counties}
        self.person_ids: dict[tuple[int, int], int] = {}
        self.person_names: dict[int, str] = {}
        self.person_cases: dict[int, list[int]] = {}  # petitioner -> its case ids, in order
        self.sequences: dict[tuple[int, int], int] = {}
        self.clock_rules = {r.name: r for r in profile.all_clocks}
        self.categories = list(profile.categories)
        self.forced = list(S)  # the busy county's first cases take every state once
        self.busy: dict[str, list] = {"long_history": [], "registered": [], "signed_off": [],
                                      "open": []}
        self.busy_resolved = False

    # -- people -------------------------------------------------------------------------------

    def _person(self, county: County, township: int, village: int) -> int:
        pool = self.pool_size[county.index]
        idx = int(pool * self.rng.random() ** 1.6)
        key = (county.index, idx)
        pk = self.person_ids.get(key)
        if pk is None:
            pk = self.ids.next("petitioner")
            person = make_person(self.rng, pk, township_id=township, village_id=village,
                                 township_name=county.names[township],
                                 village_name=county.names[village])
            import time

            began = time.perf_counter()
            row = petitioner_columns(self.ring, pk, person, self.now)
            self.stats.encrypt_seconds += time.perf_counter() - began
            self.t.petitioner.add(*row)
            self.person_ids[key] = pk
            self.person_names[pk] = person.name
            self.stats.people += 1
        return pk

    # -- the stream ---------------------------------------------------------------------------

    def run(self) -> Stats:
        start = self.now - timedelta(days=365 * self.years)
        span = (self.now - timedelta(hours=2) - start).total_seconds()
        for i in range(self.n):
            received = start + timedelta(seconds=(i + self.rng.random()) * span / self.n)
            k = bisect(self.county_cum, self.rng.random() * self.county_cum[-1])
            county = self.tree.counties[min(k, len(self.tree.counties) - 1)]
            self.case(county, received)
        self.imported_backlog()
        return self.stats

    def case(self, county: County, received: datetime) -> None:
        rng, now = self.rng, self.now
        pk = self.ids.next("case")
        age = (now - received).total_seconds() / 86400
        forced = county.index == 0 and bool(self.forced)
        if forced:
            state = self.forced.pop(0)
        else:
            state = _state_for(rng, age)
        kind = _pick(rng, KINDS)
        township = rng.choice(county.townships)
        village = rng.choice(county.villages[township])
        main = None
        companions: list[int] = []
        if kind != c.Kind.OPINION_INCIDENT:
            main = self._person(county, township, village)
            if rng.random() < 0.1:
                companions = list({self._person(county, township, village)
                                   for _ in range(rng.randint(1, 2))} - {main})
        earlier = self.person_cases.get(main, []) if main else []
        if kind in (c.Kind.REVIEW, c.Kind.REREVIEW) and not earlier:
            kind = c.Kind.PETITION
        if state == S.MERGED and not earlier:
            if forced:  # a merge needs an earlier case of the same person: try again later
                self.forced.append(S.MERGED)
            state = S.DECLINED
        rank = RANK[state]
        # Steps happen at their usual pace, compressed when the case is younger than that.
        last_offset = STEPS[rank][3] if state not in (S.DECLINED, S.MERGED) else 1.0
        if state == S.EXTENSION_REQUESTED:
            last_offset = 20.0
        scale = min(1.0, max(age - 0.05, 0.01) / (last_offset + 0.5))
        registered = received + timedelta(minutes=rng.randint(5, 240) * scale)

        def at(offset_days: float) -> datetime:
            return min(registered + timedelta(days=offset_days * scale), now)

        year = received.astimezone(SHANGHAI).year
        key = (county.unit, year)
        seq = self.sequences[key] = self.sequences.get(key, 0) + 1
        number = self.profile.case_number_pattern.format(prefix=county.short_name, year=year,
                                                         seq=seq)
        category = rng.choice(self.categories)
        tname, vname = county.names[township], county.names[village]
        matter = f"{tname}{vname}群众{rng.choice(TEMPLATES).format(c=category)}"
        users = county.users
        lead = rng.choice(county.townships[:3] if rng.random() < 0.5 else county.townships) \
            if rng.random() < 0.75 else rng.choice(county.bureaus[:5])
        if lead not in county.handlers:
            lead = township
        actors = {"clerk": (users["clerk"], "clerk", county.office),
                  "approver": (users["approver"], "approver", county.office),
                  "lead": (county.handlers.get(lead, users["clerk"]), "unit_handler", lead)}
        headcount = rng.choice((1, 1, 1, 1, 2, 3)) if rng.random() > 0.03 else rng.randint(5, 30)
        concerns = rng.random() < 0.04
        source = _pick(rng, SOURCES)
        closed_at = at(STEPS[CLOSED][3]) if CLOSED <= rank else None
        rating = ""
        if rank >= DELIVERED and (rank >= CLOSED or rng.random() < 0.5):
            rating = _pick(rng, [(c.Rating.SATISFIED, 75), (c.Rating.BASICALLY, 18),
                                 (c.Rating.UNSATISFIED, 7)])
        merged_into = earlier[-1] if state == S.MERGED else None
        review_of = earlier[-1] if kind in (c.Kind.REVIEW, c.Kind.REREVIEW) else None

        # history: the steps taken, in order
        events: list[tuple[str, str, datetime, str, str]] = []  # type, actor, at, from, to
        prev = ""
        for step_state, event, actor, offset in STEPS[: rank + 1]:
            if state in (S.DECLINED, S.MERGED) and step_state != S.REGISTERED:
                break
            when = registered if event == "register" else at(offset)
            if event == "sign_off" and state == S.AWAITING_COUNTERSIGN:
                break
            events.append((event, actor, when, prev, step_state))
            prev = step_state
            if step_state == S.IN_PROGRESS and rank >= IN_PROGRESS:
                events.append(("log_contact", "lead", at(offset + 1), prev, prev))
                if rank > IN_PROGRESS or rng.random() < 0.7:
                    events.append(("deliver_acceptance_notice", "lead", at(offset + 3), prev,
                                   prev))
                if rank >= LETTER:
                    events.append(("record_finding", "lead", at(offset + 17), prev, prev))
            if step_state == S.DELIVERED and rating:
                events.append(("record_rating", "lead", at(offset + 5), prev, prev))
        if state == S.DECLINED:
            events.append(("decline", "clerk", at(1.0), S.REGISTERED, S.DECLINED))
        elif state == S.MERGED:
            events.append(("merge", "clerk", at(1.0), S.REGISTERED, S.MERGED))
        elif state == S.AWAITING_COUNTERSIGN:
            events.append(("sign_off", "approver", at(1.0), S.PROPOSED, S.AWAITING_COUNTERSIGN))
        elif state == S.EXTENSION_REQUESTED:
            events.append(("request_extension", "lead", at(20.0), S.IN_PROGRESS, state))
        if county.index == 0 and rank == IN_PROGRESS and rng.random() < self.long_history * 30 \
                or rng.random() < self.long_history and IN_PROGRESS <= rank < CLOSED:
            base = events[-1][2]
            for j in range(rng.randint(40, 150)):
                when = min(base + timedelta(hours=j + 1), now)
                events.append((rng.choice(("log_contact", "submit_report")), "lead", when, state,
                               state))
            if county.index == 0:
                self.busy["long_history"].append(pk)

        self.t.case.add(
            pk, number, county.unit, year, seq, self.profile_id, state, len(events), kind,
            _pick(rng, CHANNELS), _pick(rng, MATTER_TYPES), received, registered,
            users["clerk"], matter, headcount, township, village, source,
            "" if source == c.SourceLevel.NONE else f"{source}信访局", rng.random() < 0.03,
            len(earlier), rng.random() < 0.02, headcount >= 5, rng.random() < 0.005,
            rng.random() < 0.1, rng.random() < 0.05, rng.random() < 0.03, concerns,
            users["chief"] if rng.random() < 0.04 else None,
            # a person's cases are one matter here: each repeats the one before, the first
            # is the root (``Case.matter_root``, as registration keeps it)
            earlier[-1] if earlier else None, earlier[0] if earlier else None, review_of,
            merged_into,
            "不属于信访受理范围，已引导至相关部门" if state == S.DECLINED else "",
            "引导至人民法院" if state == S.DECLINED else "",
            "交属地乡镇办理" if rank >= RANK[S.PROPOSED] and state not in (S.DECLINED, S.MERGED)
            else "",
            rating, at(35.0) if rating else None, at(4.0) if rank >= IN_PROGRESS else None,
            closed_at, at(STEPS[-1][3]) if state == S.ARCHIVED else None,
            "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8)),
            # the decision letter's delivery below (``reply_delivered_at``, as the effect keeps)
            at(30.0) if rank >= DELIVERED and state not in (S.DECLINED, S.MERGED) else None,
        )
        self.stats.cases += 1
        self.stats.by_state[state] = self.stats.by_state.get(state, 0) + 1
        if main:
            self.person_cases.setdefault(main, []).append(pk)
            self.t.link.add(self.ids.next("link"), pk, main, c.PetitionerRole.MAIN)
            for other in companions:
                self.t.link.add(self.ids.next("link"), pk, other, c.PetitionerRole.COMPANION)
        findings = rank >= LETTER and state not in (S.DECLINED, S.MERGED)
        for d in range(1, rng.choice((1, 1, 1, 2, 2, 3)) + 1):
            cat = category if d == 1 else rng.choice(self.categories)
            finding = _pick(rng, [("true", 40), ("partly", 30), ("false", 30)]) if findings else ""
            self.t.demand.add(
                self.ids.next("demand"), pk, d, rng.choice(TEMPLATES).format(c=cat), cat, finding,
                {"true": "solved", "partly": "solved", "false": "explained"}.get(finding, ""))
        if concerns:
            self.t.respondent.add(self.ids.next("respondent"), pk,
                                  village if rng.random() < 0.3 else None, f"{vname}村干部",
                                  "村党支部书记")
        for seq_no, (event, actor, when, frm, to) in enumerate(events, start=1):
            user, role, unit = actors[actor]
            payload = {"event": "registered", "number": number, "repeat_count": len(earlier)} \
                if event == "register" else {}
            self.t.event.add(self.ids.next("event"), pk, seq_no, when, event, user, role, unit,
                             frm, to, payload, self.profile_code, self.profile_version)
        if self.trail is not None:
            self.trail.case(pk=pk, number=number, county=county.index, received=received,
                            steps=[(actors[actor][0], when) for _e, actor, when, *_r in events])
        self._handling(pk, state, rank, kind, registered, at, actors, users, county, lead,
                       len(earlier) == 0, main)
        if main and earlier:
            self._backlog(pk, state, rank, age, registered, county, township, village, lead,
                          main, category, matter)
        if county.index == 0:
            if state == S.REGISTERED and not concerns:
                self.busy["registered"].append(pk)
            elif state == S.SIGNED_OFF and not concerns:
                self.busy["signed_off"].append(pk)
            if state in c.OPEN_STATES and len(self.busy["open"]) < 1000:
                self.busy["open"].append(pk)

    # -- the backlog register (L2) -------------------------------------------------------------

    def _backlog(self, pk, state, rank, age, registered, county, township, village, lead, main,
                 category, matter) -> None:
        """A repeat petitioned for months becomes a backlog line (积案) at 10 %, with a leader, a
        plan and its progress; a closed one a resolved line at 3 %. The sweep adds the profile's
        unsettled lines on top (``registers.backlog``), as in an office."""
        rng = self.rng
        # the busy county's first closed repeat is always one (a register with a resolved line)
        first = county.index == 0 and not self.busy_resolved
        resolved = rank >= CLOSED and age > 90 and (first or rng.random() < 0.03)
        if not resolved and not (state in c.OPEN_STATES and age > 60 and rng.random() < 0.1):
            return
        self.busy_resolved = self.busy_resolved or (resolved and county.index == 0)
        users = county.users
        designated = min(registered + timedelta(days=rng.uniform(20, 60)), self.now)
        done = min(designated + timedelta(days=rng.uniform(30, 120)), self.now) \
            if resolved else None
        name = self.person_names[main]
        line = self.ids.next("backlog")
        self.t.backlog.add(*self._backlog_row(
            line, county, pk, rng.choice(("designated", "leader_repeat")), registered, name,
            township, village, matter, category, lead, designated, done))
        self.stats.backlog += 1
        for step in range(rng.choice((0, 1, 1, 2, 3))):
            when = min(designated + timedelta(days=7 * (step + 1)), done or self.now)
            self.t.progress.add(self.ids.next("backlog_progress"), line, when, users["chief"],
                                BACKLOG_STEPS[step % len(BACKLOG_STEPS)])

    def _backlog_row(self, line, county, case, entry, registered, name, township, village,
                     problem, category, lead, designated, done) -> tuple:
        """The line's columns in ``BACKLOG_FIELDS`` order, named here: a case's line is owned by
        the county's chief and the lead unit, an imported one by the names its ledger wrote."""
        rng, chief = self.rng, county.users["chief"]
        contact = f"1{rng.randint(30, 99)}{rng.randint(0, 99_999_999):08d}"
        deadline = designated + timedelta(days=rng.choice((30, 60, 90)))
        row = {
            "id": line, "jurisdiction_id": county.unit, "case_id": case, "entry": entry,
            "first_petition_on": (registered - timedelta(days=rng.randint(30, 900)))
            .astimezone(SHANGHAI).date(),
            "person_name": self.ring.encrypt(name), "name_index": name_index(name, ring=self.ring),
            "contact": self.ring.encrypt(contact), "exited_or_monitored": rng.random() < 0.4,
            "township_id": township, "village_id": village,
            "locality_text": "" if township else "原台账：某镇某村",
            "problem": problem, "category": category, "reason": rng.choice(BACKLOG_REASONS),
            "owner_leader_id": chief if case else None,
            "owner_leader_text": "" if case else "县委副书记",
            "responsible_unit_id": lead if case else None,
            "responsible_unit_text": "" if case else "县住建局",
            "solved": rng.choice((True, True, True, None)) if done else None,
            "guided": rng.choice((True, None)) if done else None,
            "assisted": rng.choice((True, None, False)) if done else None,
            "dealt_by_law": None, "stable": True if done else None, "note": "",
            "plan": rng.choice(BACKLOG_PLANS),
            "plan_deadline": deadline.astimezone(SHANGHAI).date() if rng.random() < 0.8 else None,
            "designated_at": designated, "designated_by_id": chief if case else None,
            "resolved_at": done, "resolved_by_id": chief if done else None,
            "outcome": "已化解，信访人签字息诉" if done else "", "updated_at": done or designated,
        }
        return tuple(row[f] for f in BACKLOG_FIELDS)

    def imported_backlog(self) -> None:
        """Old lines brought in from a county's Excel ledger, with no case: one per thousand of
        the county's cases, at least one."""
        for county in self.tree.counties:
            for _ in range(max(1, round(self.n * county.weight / 1000))):
                at = self.now - timedelta(days=self.rng.uniform(200, 900))
                name = f"{self.rng.choice('王李张刘陈杨黄赵')}{self.rng.choice('建国秀英志强桂兰')}"
                self.t.backlog.add(*self._backlog_row(
                    self.ids.next("backlog"), county, None, "imported", at, name, None, None,
                    "反映低保评定不公（原台账导入）", "", None, at, None))
                self.stats.backlog += 1

    def _clock(self, pk, name, started, amount_days, stopped, status=None):
        rule = self.clock_rules.get(name)
        due = started + timedelta(days=amount_days)
        if stopped is not None and stopped > self.now:
            stopped = None
        st = "stopped" if stopped else (status or "running")
        self.t.clock.add(
            self.ids.next("clock"), pk, name, rule.kind if rule else "deadline",
            rule.label if rule else name, rule.amount if rule else int(amount_days),
            rule.unit if rule else "days", started, due, st, stopped,
            (stopped <= due) if stopped else None, list(rule.alert) if rule else [],
            rule.due_soon_hours if rule else 24, rule.seed if rule else "")

    def _handling(self, pk, state, rank, kind, registered, at, actors, users, county, lead,
                  first, main):
        rng, t = self.rng, self.t
        ended = state in (S.DECLINED, S.MERGED)
        clerk, approver = users["clerk"], users["approver"]
        lead_user = actors["lead"][0]
        if kind == c.Kind.PETITION:
            stop = at(1.0) if ended else (at(STEPS[RANK[S.ASSIGNED]][3]) if rank >= 3 else None)
            self._clock(pk, "routing", registered, 15, stop)
            if first:
                self._clock(pk, "first_contact", registered, 1,
                            at(4.0) if rank >= IN_PROGRESS else (at(1.0) if ended else None))
        if ended:
            return
        if rank >= RANK[S.SIGNED_OFF]:
            t.signature.add(self.ids.next("signature"), pk, c.SignatureStage.SIGN_OFF,
                            "approver", approver, at(1.0))
        if rank < RANK[S.ASSIGNED]:
            return
        status = c.AssignmentStatus.ENDED if rank >= CLOSED else c.AssignmentStatus.ACTIVE
        signed = at(3.0) if rank >= IN_PROGRESS else None
        t.assignment.add(self.ids.next("assignment"), pk, lead, c.AssignmentRole.LEAD, status,
                         at(2.0), clerk, "经办人", "", signed, lead_user if signed else None)
        if rng.random() < 0.1:
            assist = rng.choice(county.bureaus[:5])
            if assist != lead:
                t.assignment.add(self.ids.next("assignment"), pk, assist, c.AssignmentRole.ASSIST,
                                 status, at(2.0), clerk, "经办人", "", signed,
                                 county.handlers[assist] if signed else None)
        if rank < IN_PROGRESS:
            return
        notice_at = at(6.0) if rank > IN_PROGRESS or rng.random() < 0.7 else None
        extended = state == S.EXTENSION_REQUESTED or (rank > IN_PROGRESS and rng.random() < 0.03)
        if kind == c.Kind.PETITION:
            self._clock(pk, "acceptance_notice", signed, 15, notice_at)
            self._clock(pk, "objection_window", signed, 7, notice_at)
            self._clock(pk, "handling", signed, 90 if extended and rank > IN_PROGRESS else 60,
                        at(STEPS[ISSUED][3]) if rank >= ISSUED else None)
        t.contact.add(self.ids.next("contact"), pk, c.ContactKind.PHONE, at(4.0), lead_user,
                      "电话联系信访人，了解诉求")
        if notice_at:
            t.document.add(self.ids.next("document"), pk, c.DocumentKind.ACCEPTANCE_NOTICE,
                           c.DocumentStatus.ISSUED, "", notice_at, lead_user, notice_at,
                           approver, notice_at)
        if extended:
            decided = state != S.EXTENSION_REQUESTED
            t.extension.add(self.ids.next("extension"), pk, at(20.0), lead_user, "情况复杂需延期",
                            "已完成初步调查", (at(20.0) + 30 * DAY).date(),
                            at(21.0) if decided else None, approver if decided else None,
                            True if decided else None)
        if rank < LETTER:
            return
        t.report.add(self.ids.next("report"), pk, c.ReportKind.HANDLING, "办理情况报告",
                     at(24.0), lead_user)
        approved = at(27.0) if rank >= RANK[S.LETTER_APPROVED] else None
        issued = at(28.0) if rank >= ISSUED else None
        doc_status = (c.DocumentStatus.ISSUED if issued else
                      c.DocumentStatus.APPROVED if approved else c.DocumentStatus.DRAFT)
        letter = self.ids.next("document")
        t.document.add(letter, pk, c.DocumentKind.DECISION_LETTER, doc_status,
                       PAGE_DOC.format(c=self.categories[0]), at(25.0), lead_user, approved,
                       approver if approved else None, issued)
        if approved:
            t.signature.add(self.ids.next("signature"), pk, c.SignatureStage.LETTER, "approver",
                            approver, approved)
        if rank >= DELIVERED:
            t.delivery.add(self.ids.next("delivery"), pk, letter,
                           rng.choice(list(c.DeliveryMode)), at(30.0), "经办人",
                           self.ring.encrypt(self.person_names.get(main, "信访人")), True, clerk)
        if rank >= CLOSED:
            t.signature.add(self.ids.next("signature"), pk, c.SignatureStage.CLOSING, "approver",
                            approver, at(40.0))
