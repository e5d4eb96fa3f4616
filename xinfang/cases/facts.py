"""The facts a profile's conditions can read about a case (the names rules/conditions.py allows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from xinfang.org.models import Unit

from .models import Case


class CaseFacts(Mapping):
    """The facts of one case. Those that need a query (the demands' categories, how many units
    hold the case) are read only when a condition asks for them, and then once: most events
    start or stop clocks whose conditions never look at them."""

    def __init__(self, plain: dict[str, object], lazy: dict[str, Callable[[], object]]):
        self._plain, self._lazy = plain, lazy

    def __getitem__(self, key: str) -> object:
        if key not in self._plain:
            if key not in self._lazy:
                raise KeyError(key)
            self._plain[key] = self._lazy.pop(key)()
        return self._plain[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._plain
        yield from list(self._lazy)

    def __len__(self) -> int:
        return len(self._plain) + len(self._lazy)

    def __repr__(self) -> str:
        return f"CaseFacts({dict(self)!r})"


def case_facts(
    case: Case, *, unit: Unit | None = None, categories: list[str] | None = None
) -> CaseFacts:
    """``categories``: the demands' categories when the caller already holds them (a case being
    registered, before its demands are written)."""
    facts: dict[str, object] = {
        "kind": case.kind,
        "channel": case.channel,
        "source_level": case.source_level or "none",
        "has_leader_instruction": bool(case.leader_instruction),
        "leader_instruction_level": case.leader_instruction_level or "none",
        "headcount": case.headcount,
        "repeat_count": case.repeat_count,
        "is_first_petition": case.repeat_count == 0,
        "repeat": case.repeat_count > 0,
        "level_skipping": case.level_skipping,
        "collective": case.collective,
        "extreme_behaviour": case.extreme_behaviour,
        "key_case": case.key_case,
        "exited_household": case.exited_household,
        "monitored_household": case.monitored_household,
        "matter_type": case.matter_type,
        "concerns_misconduct": case.concerns_misconduct,
        "concerns_policy": case.concerns_policy,
        "concerns_execution": case.concerns_execution,
    }
    lazy: dict[str, Callable[[], object]] = {
        "categories": lambda: (
            sorted({d.category for d in case.demands.all()}) if case.pk else []
        ),
    }
    if categories is not None:
        facts["categories"] = sorted(set(categories))
        del lazy["categories"]
    if case.concerns_several_units or not case.pk:
        # Known at registration (the clerk's judgement).
        facts["concerns_several_units"] = bool(case.concerns_several_units)
    else:
        # ... or shown by the assignment itself.
        lazy["concerns_several_units"] = lambda: (
            case.assignments.filter(status="active")[:2].count() > 1
        )
    if unit is not None:
        facts["unit_level"] = unit.level
        facts["unit_kind"] = unit.kind
    return CaseFacts(facts, lazy)
