"""Who acts on each profile key: a registry the consumed-keys test checks against the schema.

Rules as data means that what a profile says, the system does. Code that acts on a key declares
it where it acts, with ``@consumes("section.key", by="module.function")`` on the function (or a
module-level ``consumes(...)`` call), so a key nobody acts on — which an administrator could edit
and change nothing — is found by ``tests/rules/test_consumed_keys.py`` walking the schema of every
shipped profile.

A key covers its sub-keys (``clocks`` declared by the engine covers every field of a clock).
Keys that only describe (``seed``, ``label``, ``note``, ``name``, ``description``, ``text``) are
read by people on the rules page and in each clock's explanation; they are listed in
``DESCRIPTIVE`` rather than given a consumer each.

Consumers in apps other than ``rules`` are imported at app ready (``RulesConfig.ready`` calls
``load_consumers``), so the registry is complete whenever Django is set up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_REGISTRY: dict[str, set[str]] = {}

# Modules that declare consumers; imported once at app ready.
CONSUMER_MODULES = (
    "xinfang.rules.engine",
    "xinfang.rules.store",
    "xinfang.cases.services.effects",
    "xinfang.cases.services.registration",
    "xinfang.cases.services.scope",
    "xinfang.cases.services.closing",
    "xinfang.cases.services.routing",
    "xinfang.cases.services.supervision",
    "xinfang.cases.services.against_office",
    "xinfang.cases.services.preconditions",
    "xinfang.cases.disclosure",
    "xinfang.cases.rates",
    "xinfang.reports.outputs",
    "xinfang.registers.backlog",
    "xinfang.registers.services",
    "xinfang.cases.numbering",
    "xinfang.ownership.services",
    "xinfang.oversight.services",
    "xinfang.oversight.selectors",
    "xinfang.practices.rules",
    "xinfang.scoring.points",
    "xinfang.scoring.goals",
    "xinfang.scoring.services",
)

# Keys that other branches make act (issue 12 is shared): the consumer each will declare. The
# test reports these as pending while the named module is absent, and fails once the module
# exists without declaring the key — so the lead can verify at merge.
PENDING = {
}
PENDING_MODULES: dict[str, str] = {}

# Text for people: shown on the rules page, copied into clocks and history.
DESCRIPTIVE = frozenset({"seed", "label", "note", "name", "description", "text"})


def consumes(*keys: str, by: str) -> Callable[[F], F]:
    """Declare that ``by`` acts on each of ``keys`` (dotted, list items not indexed:
    ``clocks.start``, ``signatures.letter``). Usable as a decorator or a call."""
    for key in keys:
        _REGISTRY.setdefault(key, set()).add(by)

    def mark(func: F) -> F:
        return func

    return mark


def consumers() -> dict[str, frozenset[str]]:
    load_consumers()
    return {key: frozenset(by) for key, by in _REGISTRY.items()}


def consumer_of(key: str) -> frozenset[str]:
    """The consumers of ``key`` or of any section above it."""
    found: set[str] = set()
    registry = consumers()
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found |= registry.get(".".join(parts[:end]), set())
    return frozenset(found)


_loaded = False


def load_consumers() -> None:
    global _loaded
    if _loaded:
        return
    for module in CONSUMER_MODULES:
        importlib.import_module(module)
    _loaded = True


def schema_keys(schema: dict, prefix: str = "") -> list[str]:
    """Every dotted key of a JSON Schema object (list items are walked without an index)."""
    keys = []
    if "properties" in schema:
        for name, sub in schema["properties"].items():
            key = f"{prefix}.{name}" if prefix else name
            keys.append(key)
            keys += schema_keys(sub, key)
    elif isinstance(schema.get("items"), dict):
        keys += schema_keys(schema["items"], prefix)
    return keys


def is_leaf(schema: dict, key: str) -> bool:
    node = schema
    for part in key.split("."):
        while "items" in node and "properties" not in node:
            node = node["items"]
        node = node["properties"][part]
    while isinstance(node.get("items"), dict) and "properties" not in node:
        node = node["items"]
    return "properties" not in node
