"""Rules as data (issue 12): every key of every shipped profile is read by code that acts on it.

The consumers declare what they act on (``rules/consumers.py``); this walks the JSON Schema the
profiles are validated against and fails on any key without a consumer."""

import importlib.util

from xinfang.rules.consumers import (
    DESCRIPTIVE,
    PENDING,
    PENDING_MODULES,
    consumer_of,
    consumers,
    is_leaf,
    schema_keys,
)
from xinfang.rules.profile import SCHEMA, shipped_profiles


def _pending(key: str) -> str | None:
    section = key.split(".")[0]
    return section if section in PENDING else None


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_every_schema_key_has_a_consumer():
    unconsumed = []
    for key in schema_keys(SCHEMA):
        # A section is consumed through its keys; text for people is listed in DESCRIPTIVE.
        if not is_leaf(SCHEMA, key) or key.split(".")[-1] in DESCRIPTIVE or _pending(key):
            continue
        if not consumer_of(key):
            unconsumed.append(key)
    assert unconsumed == [], f"profile keys no code acts on: {unconsumed}"


def test_every_declared_key_is_in_the_schema():
    """A misspelt declaration must not pass for a consumer."""
    known = set(schema_keys(SCHEMA))
    assert sorted(set(consumers()) - known) == []


def test_every_key_a_shipped_profile_uses_is_in_the_schema_walk():
    known = set(schema_keys(SCHEMA))

    def keys(value, prefix=""):
        if isinstance(value, dict):
            for name, sub in value.items():
                key = f"{prefix}.{name}" if prefix else name
                yield key
                if name != "when":  # conditions are data the condition engine reads
                    yield from keys(sub, key)
        elif isinstance(value, list):
            for item in value:
                yield from keys(item, prefix)

    import yaml

    for code, profile in shipped_profiles().items():
        with open(profile.source_path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
        data.pop(True, None)  # YAML 1.1 reads a bare key "on" as True; none is used
        assert set(keys(data)) <= known, code


def test_nothing_is_left_pending():
    """``registers`` and ``periodic_reports`` were made to act on other branches (ledgers,
    reports) and are declared since the merge: no section may wait for a consumer again."""
    assert PENDING == {} and PENDING_MODULES == {}
    for section in ("registers", "periodic_reports"):
        assert any(consumer_of(k) for k in schema_keys(SCHEMA) if k.startswith(section + "."))


def test_a_key_without_a_consumer_is_caught():
    """The check can fail: a key nobody declared is reported, however it is nested."""
    stranger = {"type": "object", "properties": {
        "receptions_extra": {},
        "closing": {"type": "object", "properties": {"rating_days": {}}}}}
    missing = [k for k in schema_keys(stranger) if is_leaf(stranger, k) and not consumer_of(k)]
    assert missing == ["receptions_extra", "closing.rating_days"]
