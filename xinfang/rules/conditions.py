"""Declarative conditions for rule profiles — data that is matched, never code that is run.

A condition is plain YAML data:

* ``true`` / a missing ``when`` — always; ``false`` — never;
* ``{all: [c, ...]}``, ``{any: [c, ...]}``, ``{not: c}``;
* a leaf ``{field: NAME, OP: VALUE}`` with exactly one operator.

Operators: ``eq ne in not_in gt gte lt lte contains contains_any present``. ``gt``…``lte`` work on
the integer facts and on the ordered level facts (``none < village < township < county < city <
province < central``), so ``{field: source_level, gte: province}`` reads "provincial or higher".

A fact that is absent from the facts mapping (or ``None``) fails every operator except
``present: false``; ``ne`` and ``not_in`` are the negations of ``eq`` and ``in`` and so hold for it.

Nothing here calls ``eval``/``exec``: a leaf is a table lookup plus one comparison.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "ALWAYS",
    "FACTS",
    "LEVELS",
    "OPERATORS",
    "Condition",
    "ConditionError",
    "FactSpec",
    "condition_fields",
    "condition_problems",
    "format_path",
    "matches",
    "unknown",
    "validate_condition",
]

Path = tuple[str | int, ...]

LEVELS = ("none", "village", "township", "county", "city", "province", "central")
UNIT_LEVELS = ("village", "township", "county", "city", "province")
UNIT_KINDS = (
    "government", "bureau", "office", "discipline", "line_office", "area_team",
    "township", "village", "petition_office", "poverty_office",
)  # fmt: skip
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class FactSpec:
    """What one fact holds: ``bool``, ``int``, ``enum`` (one of ``values``) or ``list`` (of str)."""

    type: str
    values: tuple[str, ...] = ()
    ordered: bool = False


def _enum(*values: str, ordered: bool = False) -> FactSpec:
    return FactSpec("enum", values, ordered)


_BOOL = FactSpec("bool")
_INT = FactSpec("int")

# The engine builds exactly these facts from a case; a condition naming anything else is refused.
FACTS: Mapping[str, FactSpec] = MappingProxyType(
    {
        "kind": _enum("petition", "opinion_incident", "review", "rereview"),
        "channel": _enum("letter", "visit", "phone", "online", "referral", "screening", "media"),
        "source_level": _enum(*LEVELS, ordered=True),
        "has_leader_instruction": _BOOL,
        "leader_instruction_level": _enum(*LEVELS, ordered=True),
        "headcount": _INT,
        "repeat_count": _INT,  # 0 = first petition, 2 = the third time
        "is_first_petition": _BOOL,
        "repeat": _BOOL,
        "level_skipping": _BOOL,
        "collective": _BOOL,
        "extreme_behaviour": _BOOL,
        "key_case": _BOOL,
        "exited_household": _BOOL,
        "monitored_household": _BOOL,
        "categories": FactSpec("list"),
        "matter_type": _enum("suggestion", "accusation", "request"),
        "concerns_misconduct": _BOOL,
        "concerns_policy": _BOOL,
        "concerns_execution": _BOOL,
        "concerns_several_units": _BOOL,
        "unit_level": _enum(*UNIT_LEVELS, ordered=True),
        "unit_kind": _enum(*UNIT_KINDS),
    }
)

_SCALAR_OPS = ("eq", "ne")
_SET_OPS = ("in", "not_in")
_ORDER_OPS = ("gt", "gte", "lt", "lte")
_LIST_OPS = ("contains", "contains_any")
OPERATORS = (*_SCALAR_OPS, *_SET_OPS, *_ORDER_OPS, *_LIST_OPS, "present")
_COMBINATORS = ("all", "any", "not")


class ConditionError(ValueError):
    """A condition that does not validate, or facts of the wrong type at evaluation."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def format_path(path: Path) -> str:
    """``("clocks", 2, "unit")`` → ``"clocks[2].unit"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- validation ------------------------------------------------------------------------------


def validate_condition(
    data: object, path: str = "when", *, categories: Sequence[str] | None = None
) -> list[str]:
    """Every problem in ``data`` as ``"<path>: <message>"``; an empty list means it is valid.

    ``categories``, when given, is the profile's category list: ``contains``/``contains_any``
    on ``categories`` must then name one of them.
    """
    root: Path = tuple(path.split(".")) if path else ()
    return [
        f"{format_path(p)}: {msg}"
        for p, msg in condition_problems(data, root, categories=categories)
    ]


def condition_problems(
    data: object, path: Path = ("when",), *, categories: Sequence[str] | None = None
) -> list[tuple[Path, str]]:
    """Like :func:`validate_condition`, with tuple paths for callers that map them to lines."""
    problems: list[tuple[Path, str]] = []
    _check(data, path, problems, categories)
    return problems


def _check(data: object, path: Path, out: list, categories: Sequence[str] | None) -> None:
    if data is None or isinstance(data, bool):
        return
    if not isinstance(data, Mapping):
        out.append((path, f"a condition is a mapping or true/false, not {_kind(data)}"))
        return
    combinators = [key for key in _COMBINATORS if key in data]
    if combinators:
        if len(data) != 1:
            extra = ", ".join(sorted(str(k) for k in data if k != combinators[0]))
            out.append(
                (path, f"'{combinators[0]}' must stand alone in its mapping (also found: {extra})")
            )
        key = combinators[0]
        inner = data[key]
        if key == "not":
            if inner is None or isinstance(inner, bool | Mapping):
                _check(inner, (*path, "not"), out, categories)
            else:
                out.append(((*path, "not"), f"'not' takes one condition, not {_kind(inner)}"))
            return
        if not isinstance(inner, list | tuple) or not inner:
            out.append(((*path, key), f"'{key}' takes a non-empty list of conditions"))
            return
        for index, item in enumerate(inner):
            _check(item, (*path, key, index), out, categories)
        return
    _check_leaf(data, path, out, categories)


def _check_leaf(data: Mapping, path: Path, out: list, categories: Sequence[str] | None) -> None:
    if "field" not in data:
        keys = ", ".join(str(k) for k in data) or "nothing"
        out.append((path, f"expected all/any/not or a leaf with 'field' (found: {keys})"))
        return
    name = data["field"]
    spec = FACTS.get(name) if isinstance(name, str) else None
    if spec is None:
        out.append(((*path, "field"), unknown("field", name, FACTS)))
    ops = [key for key in data if key != "field"]
    for op in ops:
        if op not in OPERATORS:
            out.append(((*path, op), unknown("operator", op, OPERATORS)))
    known_ops = [op for op in ops if op in OPERATORS]
    if not ops:
        out.append((path, f"a leaf needs one operator ({', '.join(OPERATORS)})"))
    elif len(known_ops) > 1:
        out.append((path, f"a leaf takes exactly one operator, found {', '.join(known_ops)}"))
    if spec is None:
        return
    for op in known_ops:
        _check_operand(name, spec, op, data[op], (*path, op), out, categories)


def _check_operand(
    name: str, spec: FactSpec, op: str, value: object, path: Path, out: list, cats
) -> None:
    if op == "present":
        if not isinstance(value, bool):
            out.append((path, "'present' takes true or false"))
        return
    if spec.type == "list":
        if op not in _LIST_OPS:
            out.append((path, f"{name!r} is a list: use contains, contains_any or present"))
        elif op == "contains":
            _check_value(name, spec, value, path, out, cats)
        else:
            _check_list(name, spec, value, path, out, cats)
        return
    if op in _LIST_OPS:
        out.append((path, f"{op!r} works on list fields only; {name!r} is {spec.type}"))
    elif op in _ORDER_OPS:
        if spec.type == "int" or (spec.type == "enum" and spec.ordered):
            _check_value(name, spec, value, path, out, cats)
        else:
            out.append((path, f"{op!r} needs a number or a level; {name!r} is {spec.type}"))
    elif op in _SET_OPS:
        _check_list(name, spec, value, path, out, cats)
    else:
        _check_value(name, spec, value, path, out, cats)


def _check_list(name, spec, value, path, out, cats) -> None:
    if not isinstance(value, list | tuple) or not value:
        out.append((path, "expected a non-empty list of values"))
        return
    for index, item in enumerate(value):
        _check_value(name, spec, item, (*path, index), out, cats)


def _check_value(name: str, spec: FactSpec, value: object, path: Path, out: list, cats) -> None:
    if spec.type == "bool":
        ok, want = isinstance(value, bool), "true or false"
    elif spec.type == "int":
        ok, want = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif spec.type == "enum":
        ok, want = value in spec.values, f"one of {', '.join(spec.values)}"
    else:  # list of category names
        ok = isinstance(value, str) and (cats is None or value in cats)
        want = "a category of this profile" if cats is not None else "a category name"
    if not ok:
        out.append((path, f"{value!r} is not a valid value for {name!r}: expected {want}"))


def _kind(value: object) -> str:
    return type(value).__name__


def unknown(what: str, value: object, known: Iterable[str]) -> str:
    """``unknown event 'leter_issued' (did you mean 'letter_issued'?)``, else the known ones."""
    known = list(known)
    close = difflib.get_close_matches(str(value), known, n=1) if isinstance(value, str) else []
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return f"unknown {what} {value!r} ({hint})"


# --- evaluation --------------------------------------------------------------------------------


def matches(cond: Condition | Mapping | bool | None, facts: Mapping[str, object]) -> bool:
    """Whether ``cond`` holds for ``facts`` (a case's facts; see :data:`FACTS`).

    A :class:`Condition` was validated when it was built; raw data is validated here first and
    refused with :class:`ConditionError` if it is not a valid condition.
    """
    if isinstance(cond, Condition):
        return _holds(cond.data, facts)
    problems = validate_condition(cond)
    if problems:
        raise ConditionError(problems)
    return _holds(cond, facts)


def _holds(cond: Any, facts: Mapping[str, object]) -> bool:
    if cond is None or cond is True:
        return True
    if cond is False:
        return False
    if "all" in cond:
        return all(_holds(item, facts) for item in cond["all"])
    if "any" in cond:
        return any(_holds(item, facts) for item in cond["any"])
    if "not" in cond:
        return not _holds(cond["not"], facts)
    return _match_leaf(cond, facts)


def _match_leaf(leaf: Mapping, facts: Mapping[str, object]) -> bool:
    name = leaf["field"]
    spec = FACTS[name]
    op = next(key for key in leaf if key != "field")
    operand = leaf[op]
    actual = facts.get(name)
    if op == "present":
        return (actual is not None) is operand
    if op == "ne":
        return actual is None or actual != operand
    if op == "not_in":
        return actual is None or actual not in operand
    if actual is None:
        return False
    if op == "eq":
        return actual == operand
    if op == "in":
        return actual in operand
    if op == "contains":
        return operand in _as_list(name, actual)
    if op == "contains_any":
        have = _as_list(name, actual)
        return any(item in have for item in operand)
    left, right = _rank(name, spec, actual), _rank(name, spec, operand)
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _as_list(name: str, actual: object) -> Sequence:
    if isinstance(actual, str) or not isinstance(actual, Sequence | set | frozenset):
        raise ConditionError([f"fact {name!r} should be a list, got {actual!r}"])
    return actual  # type: ignore[return-value]


def _rank(name: str, spec: FactSpec, value: object) -> int:
    if spec.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if spec.type == "enum" and spec.ordered and value in _LEVEL_RANK:
        return _LEVEL_RANK[value]  # type: ignore[index]
    raise ConditionError([f"fact {name!r} cannot be ordered: {value!r}"])


def condition_fields(cond: Condition | Mapping | bool | None) -> frozenset[str]:
    """The fact names a condition reads (to check, say, that a constraint tests the unit)."""
    if isinstance(cond, Condition):
        cond = cond.data
    if not isinstance(cond, Mapping):
        return frozenset()
    for key in ("all", "any"):
        if key in cond and isinstance(cond[key], Sequence):
            return frozenset().union(*(condition_fields(c) for c in cond[key]))
    if "not" in cond:
        return condition_fields(cond["not"])
    name = cond.get("field")
    return frozenset({name}) if isinstance(name, str) else frozenset()


# --- the immutable wrapper profiles hold -------------------------------------------------------


class Condition:
    """A validated, deep-frozen condition; equal and hashable by content.

    ``Condition(data)`` raises :class:`ConditionError` listing every problem.
    """

    __slots__ = ("_data", "_key")

    def __init__(self, data: object = True, *, categories: Sequence[str] | None = None):
        problems = validate_condition(data, categories=categories)
        if problems:
            raise ConditionError(problems)
        object.__setattr__(self, "_data", _freeze(data))
        object.__setattr__(
            self, "_key", json.dumps(_thaw(data), sort_keys=True, ensure_ascii=False)
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Condition is immutable")

    @property
    def data(self) -> Any:
        """The condition as read-only data (mapping proxies and tuples)."""
        return self._data

    @property
    def always(self) -> bool:
        return self._data is None or self._data is True

    def matches(self, facts: Mapping[str, object]) -> bool:
        # Validated once when built; re-validating on every match cost the sweep a third of
        # its time in the warning rules.
        return _holds(self._data, facts)

    def to_data(self) -> Any:
        """Plain dicts/lists/bools again, e.g. for a JSON snapshot of a profile."""
        return _thaw(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"Condition({self._key})"

    def __deepcopy__(self, memo: dict) -> Condition:
        return self  # immutable

    def __copy__(self) -> Condition:
        return self

    def __reduce__(self):
        return (Condition, (self.to_data(),))


def _freeze(data: Any) -> Any:
    if isinstance(data, Mapping):
        return MappingProxyType({key: _freeze(value) for key, value in data.items()})
    if isinstance(data, list | tuple):
        return tuple(_freeze(item) for item in data)
    return data


def _thaw(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _thaw(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_thaw(item) for item in data]
    return data


ALWAYS = Condition(True)
