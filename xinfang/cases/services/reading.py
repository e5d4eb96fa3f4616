"""Reading a case is itself on the record (等保 2.0: who looked at which case, through which
door): one audit entry per case page or API detail opened — not only reveals and exports."""

from __future__ import annotations

from xinfang.audit.services import READ, audit_record
from xinfang.org.models import Membership

from ..models import Case

CHANNELS = ("web", "api")


def case_read_audit(*, case: Case, by: Membership, channel: str, ip: str = "") -> None:
    """Record that ``by`` opened ``case`` through ``channel``. Takes everything it writes from
    objects the caller already holds, so the read costs one audit append and nothing more."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")
    audit_record(
        action=READ,
        actor=by.user,
        object_type="case",
        object_id=case.pk,
        ip=ip,
        detail={"case": case.number, "channel": channel, "role": by.role, "unit": by.unit.name},
    )
