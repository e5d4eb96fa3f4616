"""Reading a profile file: YAML with a line for every key, ``extends:`` merged with the origin of
every part remembered, the checks run, and the dataclasses built.

``load_profile(path)`` reads a profile file (following ``extends:`` to its parent), checks it
against the JSON Schema and then against the system's vocabularies, and returns a frozen
:class:`Profile`. Every problem found is reported at once in a :class:`ProfileError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FsPath
from typing import Any

import yaml

from ..conditions import Condition, format_path
from .checks import _Checker, _schema_issues
from .schema import (
    _OWN_KEYS,
    DEFAULT_INSTRUCTION_READERS,
    AgainstOfficeRule,
    AnalysisRule,
    ClockRule,
    ClosingRule,
    CollectiveRule,
    ConditionalSignature,
    Constraint,
    Disclosure,
    Duration,
    ExtensionRule,
    Goal,
    LineBureau,
    MatchingRule,
    MeetingRule,
    Oversight,
    Path,
    PeriodicReport,
    Practices,
    Principle,
    Profile,
    ProfileError,
    ProfileIssue,
    ProxyRule,
    ReceptionRule,
    RegisterRule,
    ReplyModeRule,
    ReportBackRule,
    ReviewPoint,
    ReviewRule,
    ReviewStage,
    ReviewWindows,
    RoutingRule,
    ScopeRule,
    ScorePoint,
    Scoring,
    Signatures,
    Target,
    VerificationRule,
    WarningRule,
    Weekly,
)

SHIPPED_DIR = FsPath(__file__).parent.parent / "profiles"
SHIPPED_CODES = ("national", "datonghu", "jianan", "kaijiang", "henan", "lihai")


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
    too_deep = ProfileIssue(file, 1, "", f"嵌套超过{MAX_DEPTH}层，不是规则配置的结构")
    try:
        node = loader.get_single_node()
        if node is None:
            doc.issues.append(ProfileIssue(file, 1, "", "文件为空"))
            return doc
        size, depth = _expanded(node, {}, set())
        if size > MAX_NODES:
            doc.issues.append(ProfileIssue(
                file, 1, "", f"别名（*）展开后超过{MAX_NODES:,}个节点，请不要用别名嵌套别名"))
            return doc
        if depth > MAX_DEPTH:  # the walks that follow recurse once per level
            doc.issues.append(too_deep)
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
    except RecursionError:  # thousands of [ or { nested: the parser's own recursion
        doc.issues.append(too_deep)
        return doc
    finally:
        loader.dispose()
    _map_lines(node, (), doc, set())
    if not isinstance(doc.data, dict):
        doc.issues.append(ProfileIssue(file, 1, "", "a profile is a mapping of sections"))
    return doc


# A shipped profile is under 1,000 nodes. Aliases share a node, but the walks after the parse
# (lines, merge, schema, checks) visit it once per reference: 600 bytes nesting aliases nine
# deep are 9**9 nodes, minutes of a worker and gigabytes.
MAX_NODES = 100_000
# A shipped profile nests 7 levels; the walks recurse once per level, and aliases each one level
# deeper than the last (a: &a [x], b: &b [*a], …) nest as deep as the file is long.
MAX_DEPTH = 64


def _expanded(node: yaml.Node, sizes: dict[int, tuple[int, int]], active: set[int]
              ) -> tuple[int, int]:
    """How many nodes the document has with every alias written out, and how deep they nest
    (each shared node counted once, so this takes the parse's own time). Past ``MAX_DEPTH``
    the count stops going down: the caller refuses the file whatever lies below."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:  # a recursive alias, left to the walks that follow
        return 1, 1
    if len(active) > MAX_DEPTH:
        return 1, len(active) + 1
    active.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    below = [_expanded(child, sizes, active) for child in children]
    sizes[key] = (1 + sum(size for size, _ in below), 1 + max((d for _, d in below), default=0))
    active.discard(key)
    return sizes[key]


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
                                               format_path(child), "键重复"))  # fmt: skip
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
            issues.append(child.issue(("extends",), f"不能继承 {parent_code!r}（继承关系成环？）"))
            chain.insert(0, _Doc("", "", None, {}, []))
            break
        seen.add(parent_code)
        if parent_code in parents:
            parent = _parse(parents[parent_code], f"<{parent_code}>")
        else:
            found = next((d / f"{parent_code}.yaml" for d in search
                          if (d / f"{parent_code}.yaml").is_file()), None)  # fmt: skip
            if found is None:
                issues.append(child.issue(("extends",), f"找不到所继承的配置 {parent_code!r}"))
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
                    merged.issues.append(doc.issue((), f"每个配置文件都须写明 '{key}'"))
        removals = doc.data.get("clocks_remove") or []
        for pos, name in enumerate(removals if isinstance(removals, list) else []):
            if not _remove_clock(merged, name):
                merged.issues.append(doc.issue(("clocks_remove", pos), f"没有名为 {name!r} 的时限"))
        own_clocks = doc.data.get("clocks")
        seen: set = set()
        for pos, clock in enumerate(own_clocks if isinstance(own_clocks, list) else []):
            name = clock.get("name") if isinstance(clock, dict) else None
            if name is not None and name in seen:
                merged.issues.append(doc.issue(("clocks", pos, "name"), f"{name!r} 重复使用"))
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


# --- building the dataclasses -------------------------------------------------------------------


def _cond(data: dict, categories: Sequence[str]) -> Condition:
    return Condition(data.get("when", True), categories=categories)


def _tuple(data: dict, key: str, default: tuple = ()) -> tuple:
    return tuple(data[key]) if key in data else default


def _duration(data: dict | None) -> Duration | None:
    return Duration(data.get("amount", 0), data["unit"]) if data else None


def _stage(data: dict) -> ReviewStage:
    return ReviewStage(_duration(data["request"]), _duration(data["decision"]), data.get("to", ""),
                       data.get("by", "upper_office"))


def _oversight(data: dict) -> Oversight:
    review, verify, proxy = data.get("review"), data.get("verification"), data.get("proxy")
    return Oversight(
        review=ReviewRule(tuple(ReviewPoint(p["name"], p["label"]) for p in review["points"]),
                          review["seed"]) if review else None,
        verification=VerificationRule(tuple(verify["methods"]), verify["seed"])
        if verify else None,
        proxy=ProxyRule(tuple(proxy["helps"]), proxy["seed"]) if proxy else None,
    )


def _practices(data: dict | None) -> Practices:
    if not data:
        return Practices()
    rv, co = data.get("return_visit") or {}, data.get("consultation") or {}
    du, pr = data.get("duty") or {}, data.get("persuade_return") or {}
    wl, ca = data.get("watch_list") or {}, data.get("campaigns") or {}
    return Practices(
        return_visit_within=_duration(rv.get("within")), return_visit_seed=rv.get("seed", ""),
        consultation_period=co.get("period"), consultation_seed=co.get("seed", ""),
        duty_weekdays=tuple(du.get("weekdays") or ()),
        field_visit_weekday=du.get("field_visit_weekday"), duty_seed=du.get("seed", ""),
        persuade_group=tuple(pr.get("group") or ()),
        persuade_follow_up=_duration(pr.get("follow_up")),
        persuade_seed=pr.get("seed", ""),
        watch_review=wl.get("review"), watch_seed=wl.get("seed", ""),
        meetings=tuple(MeetingRule(m["name"], m["label"], m["by"], m.get("period", "month"),
                                   m["seed"]) for m in data.get("meetings") or ()),
        campaign_report=ca.get("report"), campaign_seed=ca.get("seed", ""),
        seed=data["seed"],
    )  # fmt: skip


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
            c.get("due_soon_hours", 24), c.get("kind", "deadline"), c["seed"],
            _tuple(c, "restarts_on"))),
        routing=rules("routing", lambda r: RoutingRule(
            r["name"], _cond(r, cats), r["lead"], _tuple(r, "assist"), r.get("note", ""),
            r["seed"])),
        constraints=rules("constraints", lambda r: Constraint(
            r["name"], r["label"], _cond(r, cats), r["seed"])),
        warnings=rules("warnings", lambda r: WarningRule(
            r["name"], r["label"], _cond(r, cats), tuple(r["to"]), _tuple(r, "cc"),
            _duration(r.get("follow_up")), _tuple(r, "signed_by"), r.get("notice", True),
            r.get("leader_ownership", False), r.get("owner"), _tuple(r, "ownership_items"),
            r["seed"], _tuple(r, "owner_from"))),
        closing=ClosingRule(tuple(data["closing"]["requires"]),
                            seed=data["closing"]["seed"],
                            rating_open_for=_duration(data["closing"].get("rating_open_for"))),
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
            registrar_assigns=sig.get("registrar_assigns", False),
            registrar_reviews=sig.get("registrar_reviews", False), seed=sig["seed"]),
        extension=ExtensionRule(
            ext["max_count"], ext["amount"], ext["unit"], ext.get("requires_progress_report",
            False), approved_by=_tuple(ext, "approved_by", ("approver",)), seed=ext["seed"]),
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
            r["name"], r["label"], r["period"], _tuple(r, "contents"), _tuple(r, "to"),
            r["seed"])),
        registers=rules("registers", lambda r: RegisterRule(
            r["name"], r["label"], r.get("period"), _tuple(r, "by"), r["seed"])),
        principles=rules("principles", lambda r: Principle(r["name"], r["text"], r["seed"])),
        disclosure=Disclosure(
            tuple(disclosure.get("leader_instruction", DEFAULT_INSTRUCTION_READERS)),
            disclosure.get("seed", "")),
        against_office=AgainstOfficeRule(against["to"], against.get("note", ""), against["seed"])
        if against else AgainstOfficeRule(),
        matching=MatchingRule(float(data["matching"]["confirm_at"]),
                              data["matching"].get("seed", "")) if data.get("matching")
        else MatchingRule(),
        oversight=_oversight(data.get("oversight") or {}),
        practices=_practices(data.get("practices")),
        scoring=_scoring(data.get("scoring")),
        goals=rules("goals", lambda r: Goal(r["name"], r["label"], r["measure"], r["aim"],
                                             r["seed"])),
        extends=data.get("extends"), source_path=source, checksum=checksum,
        line_bureaus=rules("line_bureaus", lambda r: LineBureau(
            r["category"], r["bureau"], r["seed"])),
    )  # fmt: skip


def _scoring(data: dict | None) -> Scoring | None:
    if not data:
        return None
    return Scoring(
        tuple(data["periods"]),
        tuple(ScorePoint(p["name"], p["label"], p["count"], float(p["points"]),
                         float(p["cap"]) if "cap" in p else None, _tuple(p, "clocks"), p["seed"])
              for p in data["points"]),
        float(data.get("base", 100)), data["seed"])


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
        raise ProfileError([ProfileIssue(str(path), None, "", f"无法读取：{exc}")]) from exc
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
                                             f"配置代码应为 {code!r}")])  # fmt: skip
        profiles.append((code, profile))
    return tuple(profiles)


def _sorted(issues: Iterable[ProfileIssue]) -> list[ProfileIssue]:
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (i.file, i.line or 0, i.key))
