"""Cases for the scoring tests, walked through the services under 沥海街道 (seed 004): the approver
signs off, the chief signs the assignment (2211), the clerk assigns to a unit."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import register_in, sh
from xinfang.cases.services import perform


def assigned(j, unit: str, *, at=None, **registration):
    """A case registered at ``at`` (default 2026-09-14 10:00, received 09:30) and assigned to
    ``unit`` (a township or a bureau/line office name)."""
    at = at or sh(2026, 9, 14, 10, 0)
    registration.setdefault("received_at", at - timedelta(minutes=30))
    case = register_in(j, at=at, **registration)
    units = {**j.townships, **j.bureaus}
    steps = [("propose", "clerk", {"proposal": f"交{unit}办理"}), ("sign_off", "approver", {}),
             ("countersign", "chief", {"note": "交办签"}),
             ("assign", "clerk", {"lead": units[unit], "receiver_name": "陈晓东"})]
    for i, (name, who, params) in enumerate(steps, start=1):
        case = perform(name, case=case, by=j.member(who), expected_version=case.version,
                       at=at + timedelta(minutes=5 * i), **params)
    return case
