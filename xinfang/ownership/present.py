"""The person's page as plain data: the API and the command line print the same thing."""

from __future__ import annotations

from django.utils import timezone

from .people import Person


def _at(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def person_data(person: Person) -> dict:
    """Masked identity, the matters with their cases, open warnings and pending items."""
    shown = person.shown
    return {
        "id": person.petitioner.pk,
        "name": shown["name"], "id_number": shown["id_number"], "phone": shown["phone"],
        "address": shown["address"], "confidential": person.confidential,
        "leaders": person.leaders,
        "matters": [{
            "matter": m.first.matter,
            "visits": m.visits,
            "open": m.open,
            "leaders": m.leaders,
            "cases": [{
                "id": r.case.pk, "number": r.case.number, "received_at": _at(r.case.received_at),
                "visit": r.visit, "role": r.role, "state": r.case.state,
                "state_label": r.state_label,
                "leader_owner": (r.case.leader_owner.full_name or r.case.leader_owner.username)
                if r.case.leader_owner else None,
            } for r in m.cases],
        } for m in person.matters],
        "open_warnings": [{
            "case": n.case.number, "rule": n.rule, "reasons": n.reasons,
            "issued_at": _at(n.issued_at),
            "due": _at(n.follow_up.due_at) if n.follow_up else None,
        } for n in person.open_warnings],
        "pending_ownership_items": [{
            "case": i.case.number, "item": i.label, "status": i.status,
            "status_label": str(i.get_status_display()), "note": i.note,
        } for i in person.pending_items],
    }
