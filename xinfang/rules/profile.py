"""Rule profiles: one office's regime as data, loaded from YAML and validated with line numbers.

``load_profile(path)`` reads a profile file (following ``extends:`` to its parent), checks it
against a JSON Schema and then against the system's vocabularies (events, roles, facts, unit
kinds, time units), and returns a frozen :class:`Profile`. Every problem found is reported at
once in a :class:`ProfileError`, each with its file, line and dotted key (``clocks[2].unit``).

The format is documented for administrators in ``profiles/README.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path as FsPath
from typing import Any

import jsonschema
import yaml

from .conditions import (
    ALWAYS,
    FACTS,
    UNIT_KINDS,
    Condition,
    condition_fields,
    condition_problems,
    format_path,
    unknown,
)

__all__ = [
    "CLOSING_ITEMS", "COUNTS", "DOCUMENTS", "EVENT_FAMILIES", "EVENTS", "ROLES", "TIME_UNITS",
    "AgainstOfficeRule", "AnalysisRule", "ClockRule", "ClosingRule", "CollectiveRule",
    "ConditionalSignature",
    "Constraint", "Duration", "ExtensionRule", "PeriodicReport", "Principle", "Profile",
    "ProfileError", "ProfileIssue", "ReceptionRule", "RegisterRule", "ReplyModeRule",
    "ReportBackRule", "ReviewStage", "ReviewWindows", "RoutingRule", "ScopeRule", "Signatures",
    "Target", "WarningRule", "Weekly", "load_profile", "load_profile_text", "shipped_profiles",
]  # fmt: skip

SHIPPED_DIR = FsPath(__file__).with_name("profiles")
SHIPPED_CODES = ("national", "datonghu", "jianan", "kaijiang", "henan", "lihai")

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
    "transferred_to_discipline", "merged", "warning_issued", "warning_answered",
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
)  # fmt: skip
DOCUMENTS = (
    "acceptance_notice", "decision_letter", "delivery_receipt", "satisfaction_form",
    "settlement_pledge", "investigation_report", "initial_report", "handling_report",
    "closing_report", "verification_opinion", "evidence", "provincial_table",
)  # fmt: skip
PERIODS = ("week", "month", "quarter", "year")
# Where a petition against the registering office goes at registration (``against_office.to``).
AGAINST_OFFICE_ROUTES = ("upper_office", "discipline")
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
    requires: tuple[str, ...]
    review_points: tuple[str, ...] = ()
    seed: str = ""


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
    registrar_reviews: bool = False  # 谁登记、谁交办、谁审核
    seed: str = ""


@dataclass(frozen=True)
class ExtensionRule:
    max_count: int
    amount: int
    unit: str
    requires_progress_report: bool = False
    requires_expected_completion: bool = False
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
    when: Condition = ALWAYS
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
    extends: str | None = None
    source_path: str = ""
    checksum: str = field(default="", compare=False)

    @property
    def all_clocks(self) -> tuple[ClockRule, ...]:
        """The profile's clocks followed by the review clocks derived from ``review_windows``."""
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
_STAGE = _obj(["request", "decision"], request=_DURATION, decision=_DURATION, to=_TEXT)
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
        kind={"enum": ["deadline", "window"]})),
    routing=_list(_obj(["name", "lead", "seed"], **_RULE, lead=_TEXT, assist=_TEXTS,
                       note=_TEXT)),
    constraints=_list(_obj(["name", "label", "when", "seed"], **_RULE, label=_TEXT)),
    warnings=_list(_obj(
        ["name", "label", "when", "to", "seed"], **_RULE, label=_TEXT, to=_TEXTS, cc=_TEXTS,
        follow_up=_DURATION, signed_by=_TEXTS, notice=_BOOL, leader_ownership=_BOOL,
        owner=_TEXT, ownership_items=_TEXTS)),
    receptions=_list(_obj(["name", "label", "when", "by", "seed"], **_RULE, label=_TEXT,
                          by=_TEXTS)),
    closing=_obj(["requires", "seed"], requires=_TEXTS, review_points=_TEXTS, seed=_TEXT),
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
        closing=_TEXTS, registrar_reviews=_BOOL, seed=_TEXT,
        conditional=_list(_obj(["name", "when", "step", "roles", "seed"], **_RULE,
                               step={"enum": list(SIGN_STEPS)}, roles=_TEXTS, titles=_TEXTS))),
    extension=_obj(["max_count", "amount", "unit", "seed"], max_count=_COUNT, amount=_COUNT,
                   unit=_UNIT, requires_progress_report=_BOOL,
                   requires_expected_completion=_BOOL, approved_by=_TEXTS, seed=_TEXT),
    analysis={**_obj(["unsettled_days", "seed"], unsettled_days={"type": "integer", "minimum": 1},
                     start=_TEXTS, settled_on=_TEXTS, on_relapse=_BOOL, seed=_TEXT),
              "type": ["object", "null"]},
    review_windows=_obj(["review", "rereview", "seed"], review=_STAGE, rereview=_STAGE,
                        seed=_TEXT),
    periodic_reports=_list(_obj(["name", "label", "period", "seed"], **_RULE, label=_TEXT,
                                period={"enum": list(PERIODS)}, contents=_TEXTS, to=_TEXTS)),
    registers=_list(_obj(["name", "label", "seed"], name=_NAME, label=_TEXT, seed=_TEXT,
                         period={"enum": list(PERIODS)}, by=_TEXTS)),
    principles=_list(_obj(["name", "text", "seed"], name=_NAME, text=_TEXT, seed=_TEXT)),
    disclosure=_obj(["leader_instruction", "seed"], leader_instruction=_TEXTS, seed=_TEXT),
    against_office=_obj(["to", "seed"], to={"enum": list(AGAINST_OFFICE_ROUTES)}, note=_TEXT,
                        seed=_TEXT),
)  # fmt: skip

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
_OWN_KEYS = ("code", "version", "name", "seed", "description")  # never inherited
_RULE_LISTS = (
    "clocks", "routing", "constraints", "warnings", "receptions", "reply_modes", "report_back",
    "targets", "periodic_reports", "registers", "principles",
)  # fmt: skip


# --- reading YAML with a line for every key ----------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps mapping keys as the text written (``on:`` stays ``"on"``)."""

    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


@dataclass
class _Doc:
    file: str
    text: str
    data: Any
    lines: dict[Path, int]
    issues: list[ProfileIssue]

    def line(self, path: Path) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def issue(self, path: Path, message: str) -> ProfileIssue:
        return ProfileIssue(self.file, self.line(path), format_path(path), message)


def _parse(text: str, file: str) -> _Doc:
    doc = _Doc(file, text, None, {}, [])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.issues.append(ProfileIssue(file, 1, "", "the file is empty"))
            return doc
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark else None
        doc.issues.append(ProfileIssue(file, line, "", f"YAML syntax error: {problem}"))
        return doc
    except yaml.YAMLError as exc:
        doc.issues.append(ProfileIssue(file, None, "", f"YAML error: {exc}"))
        return doc
    finally:
        loader.dispose()
    _map_lines(node, (), doc, set())
    if not isinstance(doc.data, dict):
        doc.issues.append(ProfileIssue(file, 1, "", "a profile is a mapping of sections"))
    return doc


def _map_lines(node: yaml.Node, path: Path, doc: _Doc, active: set[int]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in active:  # a recursive alias
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
            child = (*path, key)
            if key in seen:
                doc.issues.append(ProfileIssue(doc.file, key_node.start_mark.line + 1,
                                               format_path(child), "duplicate key"))  # fmt: skip
            seen.add(key)
            doc.lines.setdefault(child, key_node.start_mark.line + 1)
            _map_lines(value_node, child, doc, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), doc, active)
    active.discard(id(node))


# --- extends: merge a chain of documents, remembering where each part came from ---------------


@dataclass
class _Merged:
    data: dict
    docs: list[_Doc]  # root first
    origin: dict[Path, tuple[int, Path]]  # merged path prefix → (doc index, path in that doc)
    issues: list[ProfileIssue]

    def issue(self, path: Path, message: str) -> ProfileIssue:
        for end in range(len(path), -1, -1):
            if path[:end] in self.origin:
                index, there = self.origin[path[:end]]
                return self.docs[index].issue((*there, *path[end:]), message)
        return self.docs[-1].issue(path, message)


def _chain(
    doc: _Doc, search: Sequence[FsPath], parents: Mapping[str, str]
) -> tuple[list[_Doc], list[ProfileIssue]]:
    """The document and its ancestors, root first; a parent that cannot be found is an issue
    (and leaves the chain's root without a dict, so nothing more is checked)."""
    chain, issues, seen = [doc], list(doc.issues), set()
    while isinstance(chain[0].data, dict) and "extends" in chain[0].data:
        child = chain[0]
        parent_code = child.data["extends"]
        if not isinstance(parent_code, str) or parent_code in seen or len(chain) > 8:
            issues.append(child.issue(("extends",), f"cannot extend {parent_code!r} (a cycle?)"))
            chain.insert(0, _Doc("", "", None, {}, []))
            break
        seen.add(parent_code)
        if parent_code in parents:
            parent = _parse(parents[parent_code], f"<{parent_code}>")
        else:
            found = next((d / f"{parent_code}.yaml" for d in search
                          if (d / f"{parent_code}.yaml").is_file()), None)  # fmt: skip
            if found is None:
                issues.append(child.issue(("extends",), f"no profile {parent_code!r} to extend"))
                chain.insert(0, _Doc("", "", None, {}, []))
                break
            parent = _parse(found.read_text(encoding="utf-8"), str(found))
        issues.extend(parent.issues)
        chain.insert(0, parent)
    return chain, issues


def _merge(chain: list[_Doc]) -> _Merged:
    merged = _Merged({}, chain, {(): (len(chain) - 1, ())}, [])
    for index, doc in enumerate(chain):
        if not isinstance(doc.data, dict):
            continue
        if index:
            for key in _OWN_KEYS:
                if key not in doc.data:
                    merged.issues.append(doc.issue((), f"'{key}' must be given in every file"))
        removals = doc.data.get("clocks_remove") or []
        for pos, name in enumerate(removals if isinstance(removals, list) else []):
            if not _remove_clock(merged, name):
                merged.issues.append(doc.issue(("clocks_remove", pos), f"no clock {name!r}"))
        own_clocks = doc.data.get("clocks")
        seen: set = set()
        for pos, clock in enumerate(own_clocks if isinstance(own_clocks, list) else []):
            name = clock.get("name") if isinstance(clock, dict) else None
            if name is not None and name in seen:
                merged.issues.append(doc.issue(("clocks", pos, "name"), f"{name!r} is used twice"))
            seen.add(name)
        for key, value in doc.data.items():
            if key == "clocks" and index and isinstance(value, list):
                _merge_clocks(merged, index, value)
            elif key != "clocks_remove":
                merged.data[key] = value
                merged.origin[(key,)] = (index, (key,))
                if key == "clocks" and isinstance(value, list):
                    for pos in range(len(value)):
                        merged.origin[("clocks", pos)] = (index, ("clocks", pos))
    return merged


def _clock_names(merged: _Merged) -> list:
    clocks = merged.data.get("clocks")
    return [c.get("name") if isinstance(c, dict) else None for c in clocks or []]


def _remove_clock(merged: _Merged, name: object) -> bool:
    names = _clock_names(merged)
    if name not in names:
        return False
    clocks = merged.data["clocks"]
    kept = [(c, merged.origin[("clocks", i)]) for i, c in enumerate(clocks) if names[i] != name]
    _set_clocks(merged, kept)
    return True


def _merge_clocks(merged: _Merged, index: int, child: list) -> None:
    clocks = list(merged.data.get("clocks") or [])
    pairs = [(c, merged.origin[("clocks", i)]) for i, c in enumerate(clocks)]
    names = _clock_names(merged)
    for pos, clock in enumerate(child):
        entry = (clock, (index, ("clocks", pos)))
        name = clock.get("name") if isinstance(clock, dict) else None
        if name is not None and name in names:
            pairs[names.index(name)] = entry  # the child's rule replaces the parent's
        else:
            pairs.append(entry)
            names.append(name)
    _set_clocks(merged, pairs)


def _set_clocks(merged: _Merged, pairs: list) -> None:
    for key in [k for k in merged.origin if len(k) == 2 and k[0] == "clocks"]:
        del merged.origin[key]
    merged.data["clocks"] = [clock for clock, _ in pairs]
    for pos, (_, origin) in enumerate(pairs):
        merged.origin[("clocks", pos)] = origin


# --- semantic checks: every name must be one the system knows --------------------------------


class _Checker:
    def __init__(self, merged: _Merged):
        self.merged = merged
        self.data = merged.data
        self.issues: list[ProfileIssue] = []
        cats = self.data.get("categories")
        self.categories = None
        if isinstance(cats, list):
            self.categories = [c for c in cats if isinstance(c, str)]

    def add(self, path: Path, message: str) -> None:
        self.issues.append(self.merged.issue(path, message))

    def names(self, path: Path, values: object, known: Sequence[str], what: str) -> None:
        for pos, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str) and value not in known:
                self.add((*path, pos), unknown(what, value, known))

    def name(self, path: Path, value: object, known: Sequence[str], what: str) -> None:
        if isinstance(value, str) and value not in known:
            self.add(path, unknown(what, value, known))

    def condition(self, path: Path, data: object, *, unit_facts: bool = False) -> None:
        for where, message in condition_problems(data, path, categories=self.categories):
            self.add(where, message)
        used = condition_fields(data) & UNIT_FACTS
        if unit_facts and not used and data is not None:
            self.add(path, "a constraint must test unit_level or unit_kind (else it refuses "
                           "every unit)")  # fmt: skip
        if not unit_facts and used:
            self.add(path, f"{', '.join(sorted(used))} is known only while a unit is being "
                           "assigned: use it in constraints")  # fmt: skip

    def section(self, key: str) -> list[tuple[Path, dict]]:
        value = self.data.get(key)
        if isinstance(value, dict):
            return [((key,), value)]
        if isinstance(value, list):
            return [((key, i), item) for i, item in enumerate(value) if isinstance(item, dict)]
        return []

    def unique_names(self, key: str) -> None:
        seen: set = set()
        for path, item in self.section(key):
            if item.get("name") in seen:
                self.add((*path, "name"), f"{item.get('name')!r} is used twice in {key}")
            seen.add(item.get("name"))

    def run(self) -> list[ProfileIssue]:
        self.pattern()
        for key in _RULE_LISTS:
            if key != "clocks":  # clocks merge by name; _merge checks each file's own list
                self.unique_names(key)
            for path, item in self.section(key):
                if "when" in item or key == "constraints":
                    self.condition((*path, "when"), item.get("when"),
                                   unit_facts=key == "constraints")  # fmt: skip
        self.clocks()
        for path, rule in self.section("routing"):
            self.name((*path, "lead"), rule.get("lead"), UNIT_KINDS, "unit kind")
            self.names((*path, "assist"), rule.get("assist"), UNIT_KINDS, "unit kind")
        for path, rule in self.section("warnings"):
            for key in ("to", "cc", "signed_by"):
                self.names((*path, key), rule.get(key), ROLES, "role")
            self.name((*path, "owner"), rule.get("owner"), ROLES, "role")
            self.duration((*path, "follow_up"), rule.get("follow_up"))
        for path, rule in self.section("receptions"):
            self.names((*path, "by"), rule.get("by"), ROLES, "role")
        for path, rule in self.section("closing"):
            self.names((*path, "requires"), rule.get("requires"), CLOSING_ITEMS, "closing item")
        for path, rule in self.section("reply_modes"):
            self.names((*path, "signed_by"), rule.get("signed_by"), ROLES, "role")
            self.titles(path, rule, "signed_by")
        self.report_back()
        for path, rule in self.section("targets"):
            for key in ("numerator", "denominator"):
                self.name((*path, key), rule.get(key), COUNTS, "count")
        self.signatures()
        for path, rule in self.section("extension"):
            self.names((*path, "approved_by"), rule.get("approved_by"), ROLES, "role")
            self.duration(path, rule)
        for path, rule in self.section("analysis"):
            for key in ("start", "settled_on"):
                self.names((*path, key), rule.get(key), _EVENT_NAMES, "event")
        for path, stage in self.section("review_windows"):
            for name in ("review", "rereview"):
                for part in ("request", "decision"):
                    value = stage.get(name)
                    if isinstance(value, dict):
                        self.duration((*path, name, part), value.get(part))
        self.scope()
        for path, rule in self.section("periodic_reports"):
            self.names((*path, "to"), rule.get("to"), ROLES, "role")
        for path, rule in self.section("registers"):
            self.names((*path, "by"), rule.get("by"), UNIT_KINDS, "unit kind")
        for path, rule in self.section("disclosure"):
            self.names((*path, "leader_instruction"), rule.get("leader_instruction"), ROLES,
                       "role")
        return self.issues

    def pattern(self) -> None:
        pattern = self.data.get("case_number_pattern")
        if not isinstance(pattern, str):
            return
        path: Path = ("case_number_pattern",)
        try:
            parts = list(string.Formatter().parse(pattern))
        except ValueError as exc:
            self.add(path, f"not a valid pattern: {exc}")
            return
        fields = [name for _, name, _, _ in parts if name is not None]
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            if base in PATTERN_FIELDS and name != base:
                self.add(path, f"{{{name}}}: attribute and index access are not allowed")
            elif name not in PATTERN_FIELDS:
                self.add(path, f"{{{name}}} is not allowed: use only {{prefix}}, {{year}}, {{seq}}")
            elif conversion or (spec and "{" in spec):
                self.add(path, f"{{{name}}} may carry a format spec but no conversion or nesting")
        if "seq" not in {re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields}:
            self.add(path, "the pattern must contain {seq}, or case numbers would repeat")
        if all(name in PATTERN_FIELDS for name in fields):
            try:
                pattern.format(prefix="X", year=2024, seq=1)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                self.add(path, f"the pattern does not format: {exc}")

    def clocks(self) -> None:
        for path, clock in self.section("clocks"):
            for key in ("start", "stop", "pauses_on", "resumes_on", "extends_on"):
                self.names((*path, key), clock.get(key), _EVENT_NAMES, "event")
            for key in ("start", "stop"):
                if clock.get(key) == []:
                    self.add((*path, key), f"a clock needs at least one {key} event")
            self.names((*path, "alert"), clock.get("alert"), ROLES, "role")
            if clock.get("resumes_on") and not clock.get("pauses_on"):
                self.add((*path, "resumes_on"), "resumes_on without pauses_on")
            self.duration(path, clock)

    def duration(self, path: Path, value: object) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("unit"), str):
            return
        amount, unit = value.get("amount"), value["unit"]
        if unit == "same_day":
            if amount not in (None, 0):
                self.add((*path, "amount"), "a same_day limit takes no amount (or 0)")
        elif amount is None:
            self.add(path, f"an amount is required for unit {unit!r}")
        elif isinstance(amount, int) and amount < 1:
            self.add((*path, "amount"), f"the amount must be 1 or more ({unit})")

    def titles(self, path: Path, rule: dict, roles_key: str) -> None:
        titles, roles = rule.get("titles"), rule.get(roles_key)
        if isinstance(titles, list) and titles and len(titles) != len(roles or []):
            self.add((*path, "titles"), f"give one title per role in {roles_key}")

    def report_back(self) -> None:
        for path, rule in self.section("report_back"):
            self.names((*path, "contents"), rule.get("contents"), DOCUMENTS, "document")
            self.names((*path, "start"), rule.get("start"), _EVENT_NAMES, "event")
            timed, weekly = "unit" in rule or "amount" in rule, "weekly" in rule
            if timed == weekly:
                self.add(path, "give either amount and unit, or weekly (not both, not neither)")
            elif timed:
                self.duration(path, rule)
            weekly_data = rule.get("weekly")
            if isinstance(weekly_data, dict) and "time" in weekly_data:
                self.time((*path, "weekly", "time"), weekly_data["time"])

    def time(self, path: Path, value: object) -> None:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 10:00 as 600
            self.add(path, "write the time in quotes, e.g. '10:00'")
        elif not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            self.add(path, f"{value!r} is not a time of day like '10:00'")

    def signatures(self) -> None:
        for path, rule in self.section("signatures"):
            for key in ("sign_off", "assignment", "letter", "closing"):
                self.names((*path, key), rule.get(key), ROLES, "role")
            for pos, extra in enumerate(rule.get("conditional") or []):
                if isinstance(extra, dict):
                    where = (*path, "conditional", pos)
                    self.condition((*where, "when"), extra.get("when"))
                    self.names((*where, "roles"), extra.get("roles"), ROLES, "role")
                    self.titles(where, extra, "roles")

    def scope(self) -> None:
        for path, scope in self.section("scope"):
            matter_types = FACTS["matter_type"].values
            self.names((*path, "matter_types"), scope.get("matter_types"), matter_types,
                       "matter type")  # fmt: skip
            since = scope.get("accepted_since")
            if since is not None and not isinstance(since, dt.date):
                self.add((*path, "accepted_since"), "write a date as 2018-08-01 (unquoted)")


def _schema_issues(merged: _Merged) -> list[ProfileIssue]:
    issues = []
    for error in _VALIDATOR.iter_errors(merged.data):
        path: Path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for key in error.instance:
                if key not in allowed:
                    issues.append(merged.issue((*path, key), unknown("key", key, allowed)))
            continue
        issues.append(merged.issue(path, error.message))
    return issues


# --- building the dataclasses -------------------------------------------------------------------


def _cond(data: dict, categories: Sequence[str]) -> Condition:
    return Condition(data.get("when", True), categories=categories)


def _tuple(data: dict, key: str, default: tuple = ()) -> tuple:
    return tuple(data[key]) if key in data else default


def _duration(data: dict | None) -> Duration | None:
    return Duration(data.get("amount", 0), data["unit"]) if data else None


def _stage(data: dict) -> ReviewStage:
    return ReviewStage(_duration(data["request"]), _duration(data["decision"]), data.get("to", ""))


def _build(data: dict, *, source: str, checksum: str) -> Profile:
    disclosure = data.get("disclosure", {})
    against = data.get("against_office")
    cats = tuple(data["categories"])

    def rules(key: str, make) -> tuple:
        return tuple(make(item) for item in data.get(key) or [])

    sig, ext, scope = data["signatures"], data["extension"], data["scope"]
    analysis = data.get("analysis")
    return Profile(
        code=data["code"], version=data["version"], name=data["name"], seed=data["seed"],
        description=data["description"], case_number_pattern=data["case_number_pattern"],
        categories=cats,
        clocks=rules("clocks", lambda c: ClockRule(
            c["name"], c["label"], tuple(c["start"]), tuple(c["stop"]), c.get("amount", 0),
            c["unit"], c.get("roll", True), _cond(c, cats), _tuple(c, "pauses_on"),
            _tuple(c, "resumes_on"), _tuple(c, "extends_on"), _tuple(c, "alert"),
            c.get("due_soon_hours", 24), c.get("kind", "deadline"), c["seed"])),
        routing=rules("routing", lambda r: RoutingRule(
            r["name"], _cond(r, cats), r["lead"], _tuple(r, "assist"), r.get("note", ""),
            r["seed"])),
        constraints=rules("constraints", lambda r: Constraint(
            r["name"], r["label"], _cond(r, cats), r["seed"])),
        warnings=rules("warnings", lambda r: WarningRule(
            r["name"], r["label"], _cond(r, cats), tuple(r["to"]), _tuple(r, "cc"),
            _duration(r.get("follow_up")), _tuple(r, "signed_by"), r.get("notice", True),
            r.get("leader_ownership", False), r.get("owner"), _tuple(r, "ownership_items"),
            r["seed"])),
        closing=ClosingRule(tuple(data["closing"]["requires"]),
                            _tuple(data["closing"], "review_points"), data["closing"]["seed"]),
        reply_modes=rules("reply_modes", lambda r: ReplyModeRule(
            r["name"], _cond(r, cats), r["mode"], _tuple(r, "signed_by"), _tuple(r, "titles"),
            r["seed"])),
        report_back=rules("report_back", lambda r: ReportBackRule(
            r["name"], r["label"], _cond(r, cats), tuple(r["contents"]),
            r.get("amount", 0 if "unit" in r else None), r.get("unit"),
            _tuple(r, "start", ("registered",)),
            Weekly(r["weekly"]["weekday"], dt.time.fromisoformat(r["weekly"]["time"]))
            if "weekly" in r else None, r.get("to", ""), r["seed"])),
        targets=rules("targets", lambda r: Target(
            r["name"], r["label"], r["numerator"], r["denominator"], float(r["threshold"]),
            r["seed"])),
        signatures=Signatures(
            tuple(sig["sign_off"]), _tuple(sig, "assignment"), _tuple(sig, "letter"),
            _tuple(sig, "closing"),
            tuple(ConditionalSignature(c["name"], _cond(c, cats), c["step"], tuple(c["roles"]),
                                       _tuple(c, "titles"), c["seed"])
                  for c in sig.get("conditional") or []),
            sig.get("registrar_reviews", False), sig["seed"]),
        extension=ExtensionRule(
            ext["max_count"], ext["amount"], ext["unit"], ext.get("requires_progress_report",
            False), ext.get("requires_expected_completion", False),
            _tuple(ext, "approved_by", ("approver",)), ext["seed"]),
        analysis=AnalysisRule(
            analysis["unsettled_days"], _tuple(analysis, "start", ("signed_for",)),
            _tuple(analysis, "settled_on", ("closed",)), analysis.get("on_relapse", False),
            analysis["seed"]) if analysis else None,
        scope=ScopeRule(tuple(scope["matter_types"]), scope.get("accepted_since"),
                        _tuple(scope, "items"), scope.get("note", ""), scope["seed"]),
        review_windows=ReviewWindows(_stage(data["review_windows"]["review"]),
                                     _stage(data["review_windows"]["rereview"]),
                                     data["review_windows"]["seed"]),
        collective=CollectiveRule(data["collective"]["min_headcount"],
                                  data["collective"]["max_representatives"],
                                  data["collective"]["seed"]),
        receptions=rules("receptions", lambda r: ReceptionRule(
            r["name"], r["label"], _cond(r, cats), tuple(r["by"]), r["seed"])),
        periodic_reports=rules("periodic_reports", lambda r: PeriodicReport(
            r["name"], r["label"], r["period"], _cond(r, cats), _tuple(r, "contents"),
            _tuple(r, "to"), r["seed"])),
        registers=rules("registers", lambda r: RegisterRule(
            r["name"], r["label"], r.get("period"), _tuple(r, "by"), r["seed"])),
        principles=rules("principles", lambda r: Principle(r["name"], r["text"], r["seed"])),
        disclosure=Disclosure(
            tuple(disclosure.get("leader_instruction", DEFAULT_INSTRUCTION_READERS)),
            disclosure.get("seed", "")),
        against_office=AgainstOfficeRule(against["to"], against.get("note", ""), against["seed"])
        if against else AgainstOfficeRule(),
        extends=data.get("extends"), source_path=source, checksum=checksum,
    )  # fmt: skip


# --- the front door ------------------------------------------------------------------------------


def load_profile_text(
    text: str,
    *,
    source: str = "<text>",
    search_path: Sequence[str | FsPath] | None = None,
    parents: Mapping[str, str] | None = None,
) -> Profile:
    """Load a profile from YAML text and raise :class:`ProfileError` with every problem found.

    A parent named by ``extends:`` is taken from ``parents`` (code → YAML text, so a stored
    version can pin the parent text it was installed with), else looked for as ``<code>.yaml``
    in ``search_path`` and then among the shipped profiles.
    """
    search = [FsPath(p) for p in search_path or ()] + [SHIPPED_DIR]
    chain, issues = _chain(_parse(text, source), search, parents or {})
    if any(not isinstance(doc.data, dict) for doc in chain):  # unreadable: nothing more to check
        raise ProfileError(_sorted(issues))
    merged = _merge(chain)
    issues += merged.issues + _schema_issues(merged) + _Checker(merged).run()
    if issues:
        raise ProfileError(_sorted(issues))
    checksum = ""
    for doc in chain:  # a child's checksum covers its parents' text too
        checksum = hashlib.sha256((checksum + "\n" if checksum else "").encode() +
                                  doc.text.encode("utf-8")).hexdigest()  # fmt: skip
    return _build(merged.data, source=source, checksum=checksum)


def load_profile(path: str | FsPath) -> Profile:
    """Load a profile file; a parent it ``extends`` is looked for beside it, then among shipped."""
    path = FsPath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([ProfileIssue(str(path), None, "", f"cannot read: {exc}")]) from exc
    return load_profile_text(text, source=str(path), search_path=[path.parent])


def shipped_profiles() -> dict[str, Profile]:
    """The six profiles shipped with the system, by code (loaded once, validated)."""
    return dict(_shipped())


@cache
def _shipped() -> tuple[tuple[str, Profile], ...]:
    profiles = []
    for code in SHIPPED_CODES:
        profile = load_profile(SHIPPED_DIR / f"{code}.yaml")
        if profile.code != code:
            raise ProfileError([ProfileIssue(profile.source_path, None, "code",
                                             f"expected code {code!r}")])  # fmt: skip
        profiles.append((code, profile))
    return tuple(profiles)


def _sorted(issues: Iterable[ProfileIssue]) -> list[ProfileIssue]:
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (i.file, i.line or 0, i.key))
