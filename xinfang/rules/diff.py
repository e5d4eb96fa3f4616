"""What changed between two profiles, rule by rule: lists of named rules are matched by name (a
clock that changed its limit is one line, not a shifted list), everything else key by key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .profile import Profile

# Not rules: where the file was read from and its hash.
_IGNORED = {"source_path", "checksum"}
UNIT_WORDS = {"hours": "小时", "same_day": "当天", "days": "日", "weeks": "周",
              "working_days": "个工作日"}  # fmt: skip


def limit_text(amount: int | None, unit: str | None) -> str:
    if unit is None:
        return "—"
    if unit == "same_day":
        return "当天"
    return f"{amount}{UNIT_WORDS.get(unit, unit)}"


@dataclass(frozen=True)
class Change:
    path: str  # clocks[handling].amount
    old: Any  # None: added
    new: Any  # None: removed
    label: str = ""  # the rule's own label, when the change is inside a labelled rule

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"

    def __str__(self) -> str:
        label = f"（{self.label}）" if self.label else ""
        if self.kind == "added":
            return f"+ {self.path}{label}: {_short(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}{label}: {_short(self.old)}"
        return f"~ {self.path}{label}: {_short(self.old)} → {_short(self.new)}"


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _named(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _walk(a: Any, b: Any, path: str, label: str, out: list[Change]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        label = str(b.get("label") or a.get("label") or label)
        for key in list(a) + [k for k in b if k not in a]:
            if key in _IGNORED:
                continue
            sub = f"{path}.{key}" if path else key
            if key not in a:
                out.append(Change(sub, None, b[key], label))
            elif key not in b:
                out.append(Change(sub, a[key], None, label))
            else:
                _walk(a[key], b[key], sub, label, out)
        return
    if isinstance(a, list) and isinstance(b, list) and (_named(a) or _named(b)):
        left = {item["name"]: item for item in a}
        right = {item["name"]: item for item in b}
        for name in list(left) + [n for n in right if n not in left]:
            sub = f"{path}[{name}]"
            if name not in left:
                out.append(Change(sub, None, right[name], str(right[name].get("label", ""))))
            elif name not in right:
                out.append(Change(sub, left[name], None, str(left[name].get("label", ""))))
            else:
                _walk(left[name], right[name], sub, label, out)
        return
    out.append(Change(path, a, b, label))


def profile_diff(a: Profile, b: Profile) -> list[Change]:
    """Every difference from ``a`` to ``b``, in the order of ``a``'s keys."""
    out: list[Change] = []
    _walk(a.as_dict(), b.as_dict(), "", "", out)
    return out
