"""Which categories a membership registers under: its jurisdiction's current profile."""

from __future__ import annotations

from xinfang.cases.services.base import unit_jurisdiction
from xinfang.org.models import Membership
from xinfang.rules.profile import shipped_profiles
from xinfang.rules.store import current_version, profile_of


def categories_for(m: Membership) -> tuple[str, ...]:
    """The categories of the profile the membership's office registers under (the national
    default's when the unit runs under none)."""
    jurisdiction = unit_jurisdiction(m.unit)
    if jurisdiction is None or not jurisdiction.profile_code:
        return shipped_profiles()["national"].categories
    return profile_of(current_version(jurisdiction.profile_code)).categories
