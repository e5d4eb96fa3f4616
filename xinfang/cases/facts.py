"""The facts a profile's conditions can read about a case (the names rules/conditions.py allows)."""

from __future__ import annotations

from xinfang.org.models import Unit

from .models import Case


def case_facts(case: Case, *, unit: Unit | None = None) -> dict[str, object]:
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
        "categories": sorted({d.category for d in case.demands.all()}) if case.pk else [],
        "matter_type": case.matter_type,
        "concerns_misconduct": case.concerns_misconduct,
        "concerns_policy": case.concerns_policy,
        "concerns_execution": case.concerns_execution,
        # Known at registration (the clerk's judgement) or shown by the assignment itself.
        "concerns_several_units": case.concerns_several_units
        or (case.assignments.filter(status="active").count() > 1 if case.pk else False),
    }
    if unit is not None:
        facts["unit_level"] = unit.level
        facts["unit_kind"] = unit.kind
    return facts
