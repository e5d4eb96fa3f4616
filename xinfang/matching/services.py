"""Writes of the matching: a person's keys, and the clerk's verdict on an earlier case offered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from xinfang.cases.bulk import insert_objects
from xinfang.cases.models import Case, Petitioner
from xinfang.org.models import Membership
from xinfang.security.crypto import get_keyring

from .keys import person_keys
from .models import MatchDecision, PersonKey, Verdict


def person_keys_refresh(petitioner: Petitioner, *, created: bool = False) -> None:
    """Replace the person's fuzzy-name keys with those of their current name and township."""
    wanted = set(person_keys(petitioner.name, petitioner.township_id))
    have = set() if created else set(
        PersonKey.objects.filter(petitioner=petitioner).values_list("key", flat=True))
    if have - wanted:
        PersonKey.objects.filter(petitioner=petitioner, key__in=have - wanted).delete()
    if wanted - have:
        # one plain INSERT … ON CONFLICT DO NOTHING (``cases.bulk``): through ``bulk_create`` a
        # registration's two or three keys cost 0.65 ms of CPU at 1M cases, its own statement
        # prepared and compiled for each
        insert_objects([PersonKey(petitioner=petitioner, key=x) for x in sorted(wanted - have)],
                       ignore_conflicts=True)


def person_keys_rebuild(people: Iterable[Petitioner] | None = None, *, batch: int = 2000) -> int:
    """Compute the keys of every person (or of ``people``): after a bulk load that bypassed the
    ORM, or a change of the key file. Returns how many people were keyed."""
    ring = get_keyring()
    rows: list[PersonKey] = []
    count = 0
    people = people if people is not None else Petitioner.objects.only(
        "id", "name", "township_id").iterator(chunk_size=batch)
    for p in people:
        rows += [PersonKey(petitioner_id=p.pk, key=x)
                 for x in person_keys(p.name, p.township_id, ring=ring)]
        count += 1
        if len(rows) >= batch * 5:
            PersonKey.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    PersonKey.objects.bulk_create(rows, ignore_conflicts=True)
    return count


@transaction.atomic
def match_decide(*, by: Membership, later: Case, earlier: Case, verdict: str, at: datetime,
                 score: float | None = None, reasons: list[str] | None = None) -> MatchDecision:
    """Record the clerk's word on ``earlier`` for ``later`` (once per pair: the last word wins
    the row, the case history keeps each)."""
    from xinfang.cases.services.base import append_event

    if verdict not in Verdict.values:
        raise ValueError(verdict)
    decision, _created = MatchDecision.objects.update_or_create(
        earlier=earlier, later=later,
        defaults={"verdict": verdict, "score": score, "reasons": reasons or [],
                  "decided_by": by.user, "decided_at": at},
    )
    append_event(case=later, type="match_" + verdict, by=by, at=at,
                 payload={"earlier": earlier.number, "score": score, "reasons": reasons or []})
    return decision
