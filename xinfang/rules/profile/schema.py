"""The profile's shape: the system's vocabularies, the frozen dataclasses a loaded profile is made
of, the errors a loader reports, and the JSON Schema a profile file is checked against.

The names the schema does not constrain (events, roles, facts, unit kinds) are checked afterwards by
:mod:`.checks`; :mod:`.loader` reads the YAML and builds these dataclasses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import jsonschema

from ..conditions import ALWAYS, Condition

# --- vocabularies: the names the workflow and the rest of the system know ---------------------

ROLES = (
    "clerk", "approver", "chief", "unit_handler", "proxy_agent", "discipline", "inspector",
    "line_head",
)  # fmt: skip
EVENTS = (
    "registered", "declined", "proposed", "signed_off", "countersigned", "assigned", "signed_for",
    "contact_logged:phone", "contact_logged:visit", "contact_logged:meeting",
    "acceptance_notice_delivered", "offices_notified", "report_submitted:initial",
    "report_submitted:handling", "report_submitted:response", "report_submitted:investigation",
    "finding_recorded", "extension_requested", "extension_approved", "extension_refused",
    "letter_drafted", "letter_approved", "letter_issued", "letter_delivered", "rating_recorded",
    "reported_back", "closed", "archived", "review_requested", "reopened",
    "transferred_to_discipline", "merged", "warning_issued", "warning_answered", "reassigned",
)  # fmt: skip
# A family name is heard for every event of the family (contact_logged = any contact).
EVENT_FAMILIES = ("contact_logged", "report_submitted")
TIME_UNITS = ("hours", "same_day", "days", "weeks", "working_days")
CLOSING_ITEMS = (
    "acceptance_notice_delivered", "decision_letter_delivered", "delivery_receipt",
    "satisfaction_rating", "settlement_pledge", "handling_report", "report_back_if_referred",
    "return_visit", "closing_signature", "countersignature",
)  # fmt: skip
COUNTS = (
    "received", "registered", "accepted", "replied", "delivered_written", "resolved", "closed",
    "rated", "satisfied", "proxy_handled",
    # issue 17 (oversight17): proxied cases' own rates, and the review of closed cases.
    "proxy_closed", "proxy_rated", "proxy_satisfied", "reviewed", "review_passed",
    "resolved_passed",
)  # fmt: skip
DOCUMENTS = (
    "acceptance_notice", "decision_letter", "delivery_receipt", "satisfaction_form",
    "settlement_pledge", "investigation_report", "initial_report", "handling_report",
    "closing_report", "verification_opinion", "evidence", "provincial_table",
)  # fmt: skip
PERIODS = ("week", "month", "quarter", "year")
VERIFY_METHODS = ("document", "site", "phone")  # 书面、实地、电话 (oversight.verification)
# Where a petition against the registering office goes at registration (``against_office.to``).
AGAINST_OFFICE_ROUTES = ("upper_office", "discipline")
# What a unit's score counts, case by case (``scoring.points.count``; xinfang.scoring.points).
SCORE_COUNTS = (
    "late", "repeat", "level_skipping", "collective", "review_failed", "unsatisfied",
    "satisfied", "proxy_handled", "closed",
)  # fmt: skip
# What a goal measures (``goals.measure``) and which way it must go (``goals.aim``).
GOAL_MEASURES = (
    "received", "provincial_or_above", "level_skipping", "repeat", "collective", "backlog",
    "satisfaction_rate",
)  # fmt: skip
GOAL_AIMS = ("zero", "fall", "rise")
_EVENT_NAMES = EVENTS + EVENT_FAMILIES
SIGN_STEPS = ("sign_off", "assignment", "letter", "closing")
UNIT_FACTS = frozenset({"unit_level", "unit_kind"})  # known only while a unit is being assigned
PATTERN_FIELDS = ("prefix", "year", "seq")

Path = tuple[str | int, ...]


# --- the profile, as frozen dataclasses ----------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str


@dataclass(frozen=True)
class ClockRule:
    """A deadline (or, ``kind="window"``, a period that closes without ever being "late")."""

    name: str
    label: str
    start: tuple[str, ...]  # the first of these events starts it
    stop: tuple[str, ...]  # the first of these events stops it
    amount: int
    unit: str
    roll: bool = True  # days/weeks: a deadline on a non-working day moves to the next working day
    when: Condition = ALWAYS
    pauses_on: tuple[str, ...] = ()
    resumes_on: tuple[str, ...] = ()
    extends_on: tuple[str, ...] = ()  # each adds the profile's extension amount
    alert: tuple[str, ...] = ()
    due_soon_hours: int = 24
    kind: str = "deadline"
    seed: str = ""
    # Each of these events starts the clock afresh, whatever it did before: a running one is
    # stopped and a new one started at the event (a reassignment: the new unit's own sign-for).
    restarts_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingRule:
    name: str
    when: Condition
    lead: str
    assist: tuple[str, ...] = ()
    note: str = ""
    seed: str = ""


@dataclass(frozen=True)
class Constraint:
    """An assignment that matches ``when`` is refused, with ``label`` as the reason."""

    name: str
    label: str
    when: Condition
    seed: str = ""


@dataclass(frozen=True)
class WarningRule:
    name: str
    label: str
    when: Condition
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    follow_up: Duration | None = None  # clock from warning_issued to warning_answered
    signed_by: tuple[str, ...] = ()  # who signs the follow-up
    notice: bool = True  # a written warning notice (预警提醒单) is issued
    leader_ownership: bool = False
    owner: str | None = None
    ownership_items: tuple[str, ...] = ()
    seed: str = ""
    # Who owns the case, tried in order until one names a person (``xinfang.ownership``):
    # "village" — the leader the office linked to the case's village (seed 000 §十一(四)
    # 联点村的区级领导); "role" — the one active holder of ``owner`` in the jurisdiction.
    owner_from: tuple[str, ...] = ()


OWNER_SOURCES = ("village", "role")


@dataclass(frozen=True)
class LineBureau:
    """The line bureau (行业部门) that answers for a demand category: a unit of the jurisdiction
    whose name contains ``bureau`` is suggested after the township of the locality."""

    category: str
    bureau: str
    seed: str = ""


@dataclass(frozen=True)
class ReceptionRule:
    """Petitions matching ``when`` are received by one of ``by`` alongside the clerk."""

    name: str
    label: str
    when: Condition
    by: tuple[str, ...]
    seed: str = ""


@dataclass(frozen=True)
class ClosingRule:
    requires: tuple[str, ...]  # ``satisfaction_rating`` here: the rating is required to close
    seed: str = ""
    # How long after delivery of the answer the petitioner may still rate (also after closing);
    # None: only until the case is closed.
    rating_open_for: Duration | None = None


@dataclass(frozen=True)
class ReplyModeRule:
    """Cases matching ``when`` must be answered in ``mode``, signed by ``signed_by`` in order."""

    name: str
    when: Condition
    mode: str
    signed_by: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()  # printed under each signature, e.g. 区委书记, 区长
    seed: str = ""


@dataclass(frozen=True)
class Weekly:
    weekday: int  # 0 = Monday … 4 = Friday
    time: dt.time


@dataclass(frozen=True)
class ReportBackRule:
    """What a referred case owes the referring office: within a limit, or in a weekly batch."""

    name: str
    label: str
    when: Condition
    contents: tuple[str, ...]
    amount: int | None = None
    unit: str | None = None
    start: tuple[str, ...] = ("registered",)
    weekly: Weekly | None = None
    to: str = ""
    seed: str = ""


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    numerator: str
    denominator: str
    threshold: float
    seed: str = ""


@dataclass(frozen=True)
class ConditionalSignature:
    """Extra signatures at one step for the cases matching ``when``."""

    name: str
    when: Condition
    step: str
    roles: tuple[str, ...]
    titles: tuple[str, ...] = ()
    seed: str = ""


@dataclass(frozen=True)
class Signatures:
    sign_off: tuple[str, ...]  # ordered: a second role means a second signature
    assignment: tuple[str, ...] = ()
    letter: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()
    conditional: tuple[ConditionalSignature, ...] = ()
    registrar_assigns: bool = False  # 谁登记、谁交办: the registrar hands the case over
    registrar_reviews: bool = False  # 谁审核: the registrar reviews the closed case (issue 17)
    seed: str = ""


@dataclass(frozen=True)
class ExtensionRule:
    max_count: int
    amount: int
    unit: str
    requires_progress_report: bool = False
    approved_by: tuple[str, ...] = ("approver",)
    seed: str = ""


@dataclass(frozen=True)
class AnalysisRule:
    """Cause analysis for cases still unsettled ``unsettled_days`` after acceptance."""

    unsettled_days: int
    start: tuple[str, ...] = ("signed_for",)
    settled_on: tuple[str, ...] = ("closed",)
    on_relapse: bool = False
    seed: str = ""


@dataclass(frozen=True)
class ReviewStage:
    request: Duration  # the petitioner's window, from delivery of the letter
    decision: Duration  # the reviewing office's limit, from the request
    to: str = ""
    # Who receives the request: the petition office above the case's (national); ``office``: the
    # case's own office too, when the letters were issued by the units below it (jianan 附件6:
    # 区乡村振兴局 is the level above the township or bureau that answered).
    by: str = "upper_office"


@dataclass(frozen=True)
class ReviewWindows:
    review: ReviewStage
    rereview: ReviewStage
    seed: str = ""

    def clocks(self) -> tuple[ClockRule, ...]:
        """The four review clocks, so the engine runs them like any other."""

        def window(name, label, kinds, stage):
            return ClockRule(
                name, label, ("letter_delivered",), ("review_requested",), stage.request.amount,
                stage.request.unit, when=Condition({"field": "kind", "in": list(kinds)}),
                kind="window", seed=self.seed,
            )  # fmt: skip

        def decision(name, label, kind, stage):
            return ClockRule(
                name, label, ("registered",), ("letter_issued",), stage.decision.amount,
                stage.decision.unit, when=Condition({"field": "kind", "eq": kind}),
                alert=("clerk", "approver"), seed=self.seed,
            )  # fmt: skip

        return (
            window("review_request_window", "复查申请期限", ("petition",), self.review),
            decision("review_decision", "复查意见期限", "review", self.review),
            window("rereview_request_window", "复核申请期限", ("review",), self.rereview),
            decision("rereview_decision", "复核意见期限", "rereview", self.rereview),
        )


@dataclass(frozen=True)
class ScopeRule:
    matter_types: tuple[str, ...]
    accepted_since: dt.date | None = None
    items: tuple[str, ...] = ()
    note: str = ""
    seed: str = ""


@dataclass(frozen=True)
class CollectiveRule:
    min_headcount: int
    max_representatives: int
    seed: str = ""


@dataclass(frozen=True)
class PeriodicReport:
    name: str
    label: str
    period: str
    contents: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    seed: str = ""


@dataclass(frozen=True)
class RegisterRule:
    name: str
    label: str
    period: str | None = None
    by: tuple[str, ...] = ()
    seed: str = ""


@dataclass(frozen=True)
class Principle:
    """A rule of the seed that guides people but that the system does not enforce."""

    name: str
    text: str
    seed: str = ""


# Seed 000 §九: leader instructions are not disclosed without approval — by default only the
# office's leaders and clerk read them.
DEFAULT_INSTRUCTION_READERS = ("clerk", "approver", "chief")


@dataclass(frozen=True)
class Disclosure:
    """Who may read what a case keeps confidential beyond personal data."""

    leader_instruction: tuple[str, ...] = DEFAULT_INSTRUCTION_READERS
    seed: str = ""


@dataclass(frozen=True)
class AgainstOfficeRule:
    """A petition whose respondent is the registering office (or someone in it) cannot be handled
    by that office: at registration it goes to ``to`` — ``upper_office``, the petition office of
    the jurisdiction above, or ``discipline``, the jurisdiction's discipline commission."""

    to: str = "upper_office"
    note: str = ""
    seed: str = ""


# --- the supervisor's practices (issue 17): return visits, duty, watch list, meetings… ----------

# Who makes up a persuade-to-return group (seed 004 §二(五)): the area chief, the village team's
# cadres, the village's cadres, the line office's cadre, the police station's officer.
PERSUADE_MEMBERS = ("area_chief", "area_team", "village_cadre", "line_office", "police")
MEETING_HOLDERS = ("township", "office")


@dataclass(frozen=True)
class MeetingRule:
    """A meeting a unit must hold each period (seed 001 §四(一), 002 §三, 003 §三)."""

    name: str
    label: str
    by: str  # township: each township under the jurisdiction; office: the petition office
    period: str = "month"
    seed: str = ""


@dataclass(frozen=True)
class Practices:
    """The routines by which an office checks its own work. ``None`` or empty: the profile's seed
    does not ask for that practice (the pages still record one; nothing is flagged)."""

    return_visit_within: Duration | None = None
    return_visit_seed: str = ""
    consultation_period: str | None = None
    consultation_seed: str = ""
    duty_weekdays: tuple[int, ...] = ()
    field_visit_weekday: int | None = None
    duty_seed: str = ""
    persuade_group: tuple[str, ...] = ()
    persuade_follow_up: Duration | None = None
    persuade_seed: str = ""
    watch_review: str | None = None
    watch_seed: str = ""
    meetings: tuple[MeetingRule, ...] = ()
    campaign_report: str | None = None
    campaign_seed: str = ""
    seed: str = ""


@dataclass(frozen=True)
class MatchingRule:
    """Repeat petitions (issue 14): an earlier case of the same person and the same matter whose
    match score (0–1, ``xinfang.matching``) reaches ``confirm_at`` is linked as repeated without
    the clerk's word — at registration and by ``xinfang match --register``; below it, the clerk
    confirms or rejects what is offered."""

    confirm_at: float = 0.85
    seed: str = ""


@dataclass(frozen=True)
class ReviewPoint:
    name: str
    label: str


@dataclass(frozen=True)
class ReviewRule:
    """The review of each closed case (seed 002 §四(三)): the points a reviewer checks."""

    points: tuple[ReviewPoint, ...]
    seed: str = ""


@dataclass(frozen=True)
class VerificationRule:
    """The upper level's verification of a report-back (seed 003 §三(二), seed 001 §四(二)):
    owed on every reported-back case; ``methods`` are the ways it may be done."""

    methods: tuple[str, ...]
    seed: str = ""


@dataclass(frozen=True)
class ProxyRule:
    """Proxy handling (seed 004 §二(三) 三帮一办): what a proxy agent may take on."""

    helps: tuple[str, ...]
    seed: str = ""


@dataclass(frozen=True)
class Oversight:
    """The supervisor's practices a profile turns on (issue 17); absent: not practised."""

    review: ReviewRule | None = None
    verification: VerificationRule | None = None
    proxy: ProxyRule | None = None


@dataclass(frozen=True)
class ScorePoint:
    """One item of a unit's score: ``points`` for each case counted (negative: a deduction),
    the item's total held within ``cap`` points either way (None: no cap). ``clocks`` narrows
    ``late`` to the named clocks (empty: any deadline clock)."""

    name: str
    label: str
    count: str
    points: float
    cap: float | None = None
    clocks: tuple[str, ...] = ()
    seed: str = ""


@dataclass(frozen=True)
class Scoring:
    """Unit scoring (考核评分): each handling unit starts from ``base`` and gains or loses each
    point's amount, over the cases received in a period of ``periods``."""

    periods: tuple[str, ...]
    points: tuple[ScorePoint, ...]
    base: float = 100.0
    seed: str = ""


@dataclass(frozen=True)
class Goal:
    """An aim of the seed, measured against the same period of the year before: ``zero`` (none at
    all), ``fall`` (fewer than last year), ``rise`` (more than last year)."""

    name: str
    label: str
    measure: str
    aim: str
    seed: str = ""


@dataclass(frozen=True)
class Profile:
    code: str
    version: int
    name: str
    seed: str
    description: str
    case_number_pattern: str
    categories: tuple[str, ...]
    clocks: tuple[ClockRule, ...]
    routing: tuple[RoutingRule, ...]
    constraints: tuple[Constraint, ...]
    warnings: tuple[WarningRule, ...]
    closing: ClosingRule
    reply_modes: tuple[ReplyModeRule, ...]
    report_back: tuple[ReportBackRule, ...]
    targets: tuple[Target, ...]
    signatures: Signatures
    extension: ExtensionRule
    analysis: AnalysisRule | None
    scope: ScopeRule
    review_windows: ReviewWindows
    collective: CollectiveRule
    receptions: tuple[ReceptionRule, ...] = ()
    periodic_reports: tuple[PeriodicReport, ...] = ()
    registers: tuple[RegisterRule, ...] = ()
    principles: tuple[Principle, ...] = ()
    disclosure: Disclosure = Disclosure()
    # A version stored before the rule existed goes up a level, as the national default does.
    against_office: AgainstOfficeRule = AgainstOfficeRule()
    matching: MatchingRule = MatchingRule()
    oversight: Oversight = Oversight()
    practices: Practices = Practices()
    scoring: Scoring | None = None
    goals: tuple[Goal, ...] = ()
    extends: str | None = None
    source_path: str = ""
    checksum: str = field(default="", compare=False)
    line_bureaus: tuple[LineBureau, ...] = ()

    @cached_property
    def all_clocks(self) -> tuple[ClockRule, ...]:
        """The profile's clocks followed by the review clocks derived from ``review_windows``
        (derived once: a profile is never changed after it is parsed)."""
        return self.clocks + self.review_windows.clocks()

    def clock(self, name: str) -> ClockRule:
        for rule in self.all_clocks:
            if rule.name == name:
                return rule
        raise KeyError(f"profile {self.code!r} has no clock {name!r}")

    def clocks_for(self, facts: Mapping[str, object]) -> tuple[ClockRule, ...]:
        return tuple(rule for rule in self.all_clocks if rule.when.matches(facts))

    def route(self, facts: Mapping[str, object]) -> RoutingRule | None:
        """The first routing rule that matches: the proposed lead and assisting units."""
        return next((rule for rule in self.routing if rule.when.matches(facts)), None)

    def refusals(self, facts: Mapping[str, object]) -> tuple[Constraint, ...]:
        """The constraints refusing an assignment; ``facts`` include unit_level and unit_kind."""
        return tuple(rule for rule in self.constraints if rule.when.matches(facts))

    def warnings_for(self, facts: Mapping[str, object]) -> tuple[WarningRule, ...]:
        return tuple(rule for rule in self.warnings if rule.when.matches(facts))

    def case_number(self, *, prefix: str, year: int, seq: int) -> str:
        return self.case_number_pattern.format(prefix=prefix, year=year, seq=seq)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (conditions as data, dates and times as ISO text)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Condition):
        return value.to_data()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(timespec="minutes") if isinstance(value, dt.time) else str(value)
    return value


# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileIssue:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ProfileError(Exception):
    """Every problem found in a profile (and in the profiles it extends)."""

    def __init__(self, errors: Sequence[ProfileIssue]):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))

    @classmethod
    def single(cls, *, file: str, line: int | None, key: str, message: str) -> ProfileError:
        return cls([ProfileIssue(file, line, key, message)])


# --- the JSON Schema: shapes and types; names are checked afterwards --------------------------

_TEXT = {"type": "string", "minLength": 1}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_TEXTS = {"type": "array", "items": _TEXT}
_COUNT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}
_ANY: dict = {}  # conditions and dates: checked by the semantic pass
_UNIT = {"enum": list(TIME_UNITS)}
_WEEKDAY = {"type": "integer", "minimum": 0, "maximum": 6}  # Monday 0


def _obj(required: Iterable[str], **props: Any) -> dict:
    return {
        "type": "object",
        "required": list(required),
        "properties": props,
        "additionalProperties": False,
    }


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


_DURATION = _obj(["amount", "unit"], amount=_COUNT, unit=_UNIT)
_STAGE = _obj(["request", "decision"], request=_DURATION, decision=_DURATION, to=_TEXT,
              by={"enum": ["upper_office", "office"]})
_RULE = {"name": _NAME, "when": _ANY, "seed": _TEXT}

SCHEMA = _obj(
    ["code", "version", "name", "seed", "description", "case_number_pattern", "categories",
     "scope", "collective", "clocks", "closing", "signatures", "extension", "review_windows"],
    code=_NAME, version={"type": "integer", "minimum": 1}, name=_TEXT, seed=_TEXT,
    description=_TEXT, extends=_NAME, case_number_pattern=_TEXT,
    categories={"type": "array", "items": _TEXT, "minItems": 1, "uniqueItems": True},
    clocks_remove=_list(_NAME),
    scope=_obj(["matter_types", "seed"], matter_types=_TEXTS, accepted_since=_ANY,
               items=_TEXTS, note=_TEXT, seed=_TEXT),
    collective=_obj(["min_headcount", "max_representatives", "seed"], min_headcount=_COUNT,
                    max_representatives=_COUNT, seed=_TEXT),
    clocks=_list(_obj(
        ["name", "label", "start", "stop", "unit", "seed"], **_RULE, label=_TEXT, start=_TEXTS,
        stop=_TEXTS, amount=_COUNT, unit=_UNIT, roll=_BOOL, pauses_on=_TEXTS,
        resumes_on=_TEXTS, extends_on=_TEXTS, alert=_TEXTS, due_soon_hours=_COUNT,
        kind={"enum": ["deadline", "window"]}, restarts_on=_TEXTS)),
    routing=_list(_obj(["name", "lead", "seed"], **_RULE, lead=_TEXT, assist=_TEXTS,
                       note=_TEXT)),
    constraints=_list(_obj(["name", "label", "when", "seed"], **_RULE, label=_TEXT)),
    warnings=_list(_obj(
        ["name", "label", "when", "to", "seed"], **_RULE, label=_TEXT, to=_TEXTS, cc=_TEXTS,
        follow_up=_DURATION, signed_by=_TEXTS, notice=_BOOL, leader_ownership=_BOOL,
        owner=_TEXT, ownership_items=_TEXTS,
        owner_from={"type": "array", "items": {"enum": list(OWNER_SOURCES)}})),
    receptions=_list(_obj(["name", "label", "when", "by", "seed"], **_RULE, label=_TEXT,
                          by=_TEXTS)),
    closing=_obj(["requires", "seed"], requires=_TEXTS, rating_open_for=_DURATION, seed=_TEXT),
    reply_modes=_list(_obj(["name", "mode", "seed"], **_RULE, mode={"enum": ["written"]},
                           signed_by=_TEXTS, titles=_TEXTS)),
    report_back=_list(_obj(
        ["name", "label", "contents", "seed"], **_RULE, label=_TEXT, contents=_TEXTS,
        amount=_COUNT, unit=_UNIT, start=_TEXTS, to=_TEXT,
        weekly=_obj(["weekday", "time"], weekday={"type": "integer", "minimum": 0,
                                                  "maximum": 6}, time=_ANY))),
    targets=_list(_obj(
        ["name", "label", "numerator", "denominator", "threshold", "seed"], name=_NAME,
        label=_TEXT, numerator=_TEXT, denominator=_TEXT, seed=_TEXT,
        threshold={"type": "number", "exclusiveMinimum": 0, "maximum": 1})),
    signatures=_obj(
        ["sign_off", "seed"], sign_off=_TEXTS, assignment=_TEXTS, letter=_TEXTS,
        closing=_TEXTS, registrar_assigns=_BOOL, registrar_reviews=_BOOL, seed=_TEXT,
        conditional=_list(_obj(["name", "when", "step", "roles", "seed"], **_RULE,
                               step={"enum": list(SIGN_STEPS)}, roles=_TEXTS, titles=_TEXTS))),
    extension=_obj(["max_count", "amount", "unit", "seed"], max_count=_COUNT, amount=_COUNT,
                   unit=_UNIT, requires_progress_report=_BOOL,
                   approved_by=_TEXTS, seed=_TEXT),
    analysis={**_obj(["unsettled_days", "seed"], unsettled_days={"type": "integer", "minimum": 1},
                     start=_TEXTS, settled_on=_TEXTS, on_relapse=_BOOL, seed=_TEXT),
              "type": ["object", "null"]},
    review_windows=_obj(["review", "rereview", "seed"], review=_STAGE, rereview=_STAGE,
                        seed=_TEXT),
    # No "when": a periodic report covers its period's cases; which ones is the report's own
    # definition (the monthly bulletin: repeat, level-skipping, collective — seed 000 §十一(四)).
    periodic_reports=_list(_obj(["name", "label", "period", "seed"], name=_NAME, seed=_TEXT,
                                label=_TEXT, period={"enum": list(PERIODS)}, contents=_TEXTS,
                                to=_TEXTS)),
    registers=_list(_obj(["name", "label", "seed"], name=_NAME, label=_TEXT, seed=_TEXT,
                         period={"enum": list(PERIODS)}, by=_TEXTS)),
    principles=_list(_obj(["name", "text", "seed"], name=_NAME, text=_TEXT, seed=_TEXT)),
    disclosure=_obj(["leader_instruction", "seed"], leader_instruction=_TEXTS, seed=_TEXT),
    against_office=_obj(["to", "seed"], to={"enum": list(AGAINST_OFFICE_ROUTES)}, note=_TEXT,
                        seed=_TEXT),
    matching=_obj(["confirm_at"], confirm_at={"type": "number", "exclusiveMinimum": 0,
                                              "maximum": 1}, note=_TEXT, seed=_TEXT),
    line_bureaus=_list(_obj(["category", "bureau", "seed"], category=_TEXT, bureau=_TEXT,
                            seed=_TEXT)),
    oversight=_obj(
        [],
        review=_obj(["points", "seed"], seed=_TEXT, points={
            "type": "array", "minItems": 1,
            "items": _obj(["name", "label"], name=_NAME, label=_TEXT)}),
        verification=_obj(["methods", "seed"], seed=_TEXT, methods={
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"enum": list(VERIFY_METHODS)}}),
        proxy=_obj(["helps", "seed"], seed=_TEXT,
                   helps={"type": "array", "items": _TEXT, "minItems": 1})),
    practices=_obj(
        ["seed"], seed=_TEXT, note=_TEXT,
        return_visit=_obj(["within", "seed"], within=_DURATION, seed=_TEXT),
        consultation=_obj(["period", "seed"], period={"enum": list(PERIODS)}, seed=_TEXT),
        duty=_obj(["seed"], weekdays=_list(_WEEKDAY), field_visit_weekday=_WEEKDAY, seed=_TEXT),
        persuade_return=_obj(["group", "seed"], group=_list({"enum": list(PERSUADE_MEMBERS)}),
                             follow_up=_DURATION, seed=_TEXT),
        watch_list=_obj(["review", "seed"], review={"enum": list(PERIODS)}, seed=_TEXT),
        meetings=_list(_obj(["name", "label", "by", "seed"], name=_NAME, label=_TEXT,
                            by={"enum": list(MEETING_HOLDERS)}, period={"enum": list(PERIODS)},
                            seed=_TEXT)),
        campaigns=_obj(["report", "seed"], report={"enum": list(PERIODS)}, seed=_TEXT)),
    scoring=_obj(["periods", "points", "seed"], base={"type": "number"}, seed=_TEXT,
                 periods={"type": "array", "minItems": 1, "items": {"enum": ["quarter", "year"]}},
                 points=_list(_obj(["name", "label", "count", "points", "seed"], name=_NAME,
                                   label=_TEXT, count={"enum": list(SCORE_COUNTS)},
                                   points={"type": "number"}, cap={"type": "number",
                                                                   "exclusiveMinimum": 0},
                                   clocks=_list(_NAME), seed=_TEXT))),
    goals=_list(_obj(["name", "label", "measure", "aim", "seed"], name=_NAME, label=_TEXT,
                     measure={"enum": list(GOAL_MEASURES)}, aim={"enum": list(GOAL_AIMS)},
                     seed=_TEXT)),
)  # fmt: skip

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
_OWN_KEYS = ("code", "version", "name", "seed", "description")  # never inherited
_RULE_LISTS = (
    "clocks", "routing", "constraints", "warnings", "receptions", "reply_modes", "report_back",
    "targets", "periodic_reports", "registers", "principles", "goals",
)  # fmt: skip
