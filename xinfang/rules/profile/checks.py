"""The semantic checks: after the JSON Schema has checked shapes and types, every name a profile
uses must be one the system knows (events, roles, facts, unit kinds, documents, counts), with the
file, line and dotted key of every problem.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..conditions import FACTS, UNIT_KINDS, condition_fields, condition_problems, unknown
from .schema import (
    _EVENT_NAMES,
    _RULE_LISTS,
    _VALIDATOR,
    CLOSING_ITEMS,
    COUNTS,
    DOCUMENTS,
    PATTERN_FIELDS,
    ROLES,
    UNIT_FACTS,
    Path,
    ProfileIssue,
)

if TYPE_CHECKING:
    from .loader import _Merged


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
            self.add(path, "交办限制须检验 unit_level 或 unit_kind（否则会拒绝所有单位）")
        if not unit_facts and used:
            self.add(path, f"{'、'.join(sorted(used))} 仅在交办单位时可知，"
                           "只能用于交办限制（constraints）")  # fmt: skip

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
                self.add((*path, "name"), f"{item.get('name')!r} 在 {key} 中重复使用")
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
            self.duration((*path, "rating_open_for"), rule.get("rating_open_for"))
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
        self.scoring()
        for path, rule in self.section("disclosure"):
            self.names((*path, "leader_instruction"), rule.get("leader_instruction"), ROLES,
                       "role")
        for path, line in self.section("line_bureaus"):
            if self.categories is not None:
                self.name((*path, "category"), line.get("category"), self.categories,
                          "category")
        for path, rule in self.section("practices"):
            for key, sub in (("return_visit", "within"), ("persuade_return", "follow_up")):
                value = rule.get(key)
                if isinstance(value, dict):
                    self.duration((*path, key, sub), value.get(sub))
        return self.issues

    def scoring(self) -> None:
        """Each point's name once; ``clocks`` of a point name clocks of this profile."""
        clocks = {c.get("name") for c in self.data.get("clocks") or [] if isinstance(c, dict)}
        clocks |= {"review_decision", "rereview_decision"}  # derived from review_windows
        for path, rule in self.section("scoring"):
            seen: set = set()
            for pos, point in enumerate(rule.get("points") or []):
                if not isinstance(point, dict):
                    continue
                if point.get("name") in seen:
                    self.add((*path, "points", pos, "name"),
                             f"{point.get('name')!r} is used twice in scoring.points")
                seen.add(point.get("name"))
                self.names((*path, "points", pos, "clocks"), point.get("clocks"),
                           sorted(c for c in clocks if isinstance(c, str)), "clock")
                if point.get("clocks") and point.get("count") != "late":
                    self.add((*path, "points", pos, "clocks"), "clocks narrows only count: late")

    def pattern(self) -> None:
        pattern = self.data.get("case_number_pattern")
        if not isinstance(pattern, str):
            return
        path: Path = ("case_number_pattern",)
        try:
            parts = list(string.Formatter().parse(pattern))
        except ValueError as exc:
            self.add(path, f"编号格式无效：{exc}")
            return
        fields = [name for _, name, _, _ in parts if name is not None]
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            if base in PATTERN_FIELDS and name != base:
                self.add(path, f"{{{name}}}：不允许属性或下标访问")
            elif name not in PATTERN_FIELDS:
                self.add(path, f"不允许使用 {{{name}}}：只能用 {{prefix}}、{{year}}、{{seq}}")
            elif conversion or (spec and "{" in spec):
                self.add(path, f"{{{name}}} 可带格式说明，但不能有转换或嵌套")
        if "seq" not in {re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields}:
            self.add(path, "编号格式须含 {seq}，否则编号会重复")
        if all(name in PATTERN_FIELDS for name in fields):
            try:
                pattern.format(prefix="X", year=2024, seq=1)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                self.add(path, f"编号格式无法生成编号：{exc}")

    def clocks(self) -> None:
        for path, clock in self.section("clocks"):
            for key in ("start", "stop", "pauses_on", "resumes_on", "extends_on", "restarts_on"):
                self.names((*path, key), clock.get(key), _EVENT_NAMES, "event")
            for key in ("start", "stop"):
                if clock.get(key) == []:
                    self.add((*path, key), f"时限至少需要一个 {key} 事件")
            self.names((*path, "alert"), clock.get("alert"), ROLES, "role")
            if clock.get("resumes_on") and not clock.get("pauses_on"):
                self.add((*path, "resumes_on"), "有 resumes_on 却没有 pauses_on")
            self.duration(path, clock)

    def duration(self, path: Path, value: object) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("unit"), str):
            return
        amount, unit = value.get("amount"), value["unit"]
        if unit == "same_day":
            if amount not in (None, 0):
                self.add((*path, "amount"), "same_day（当天）时限不设 amount（或为 0）")
        elif amount is None:
            self.add(path, f"单位 {unit!r} 须给出 amount（数量）")
        elif isinstance(amount, int) and amount < 1:
            self.add((*path, "amount"), f"amount（数量）须为 1 或以上（{unit}）")

    def titles(self, path: Path, rule: dict, roles_key: str) -> None:
        titles, roles = rule.get("titles"), rule.get(roles_key)
        if isinstance(titles, list) and titles and len(titles) != len(roles or []):
            self.add((*path, "titles"), f"titles 须与 {roles_key} 中的角色一一对应")

    def report_back(self) -> None:
        for path, rule in self.section("report_back"):
            self.names((*path, "contents"), rule.get("contents"), DOCUMENTS, "document")
            self.names((*path, "start"), rule.get("start"), _EVENT_NAMES, "event")
            timed, weekly = "unit" in rule or "amount" in rule, "weekly" in rule
            if timed == weekly:
                self.add(path, "须给出 amount 和 unit，或给出 weekly（二者择一）")
            elif timed:
                self.duration(path, rule)
            weekly_data = rule.get("weekly")
            if isinstance(weekly_data, dict) and "time" in weekly_data:
                self.time((*path, "weekly", "time"), weekly_data["time"])

    def time(self, path: Path, value: object) -> None:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 10:00 as 600
            self.add(path, "时间须加引号，例如 '10:00'")
        elif not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            self.add(path, f"{value!r} 不是 '10:00' 这样的时刻")

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
                self.add((*path, "accepted_since"), "日期写作 2018-08-01（不加引号）")


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
