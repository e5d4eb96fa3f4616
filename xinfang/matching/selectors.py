"""Who is this, and have we seen this matter: the earlier cases offered at registration.

``find_matches(by=…, query=…)`` answers through the permission door (``cases_for``): only cases
``by`` may see are offered, and a person's identity counts as evidence only on the cases where
``by`` may reveal that person (``revealable_links``), so the reasons never tell a unit that a
confidential person it may not see is the one being typed.

How a lookup stays small at any size (every step an index):

1. people — the exact blind indexes of the ID number and the phone (anywhere), the exact and
   pinyin name indexes and the fuzzy-name keys (``PersonKey``) of the same township: at most
   ``MAX_PEOPLE`` rows, decrypted and scored (``_person_score``);
2. their cases (``CasePetitioner.petitioner``), the newest ``MAX_PERSON_CASES``;
3. the same village and category: the newest ``MAX_VILLAGE_CASES`` cases of the village
   (index ``case_village_received``) with a demand in one of the categories;
4. the words of those cases (matter and demands) scored against the new ones (``keys``);
5. the clerks' earlier "not the same" verdicts (``MatchDecision``) taken out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, F, OuterRef, QuerySet

from xinfang.cases import choices as c
from xinfang.cases.disclosure import revealable_link_filter
from xinfang.cases.models import Case, CasePetitioner, Demand, Petitioner
from xinfang.cases.probes import Probe
from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership, Unit
from xinfang.security.crypto import get_keyring
from xinfang.security.idcard import normalise_phone, validate_id_number
from xinfang.security.names import name_index, name_pinyin_index

from . import keys as k
from .models import MatchDecision, PersonKey, Verdict

MAX_PEOPLE = 40
MAX_PERSON_CASES = 60
MAX_VILLAGE_CASES = 120
MAX_OFFERED = 3

PERSON_AT = 0.75  # a person this alike is offered as the same person
MATTER_AT = 0.5  # a matter this alike (words), of the same person, is offered as the same matter
VILLAGE_MATTER_AT = 0.9  # of another person of the same village and category (a shared complaint
# — 低保被取消 — is not one matter; a copied or collective one is near word for word)

SAME_ID = "同一身份证号"
SAME_PHONE = "同一手机号"
SAME_VILLAGE = "同村"
SAME_TOWNSHIP = "同乡镇"
SAME_PLACE_CATEGORY = "同村同类别"


@dataclass
class MatchQuery:
    """What the clerk has typed so far (the registration's fields)."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    township: Unit | None = None
    village: Unit | None = None
    matter: str = ""
    demands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    received_at: datetime | None = None
    exclude: set[int] = field(default_factory=set)  # cases the clerk said are not the same
    petitioner_id: int | None = None  # the person the clerk already chose
    # Set by the search (``_people``) when it read every person who could hold ``id_number``:
    # that number and its holder on file, None when nobody holds it. Registration takes the
    # person from here instead of looking the number up again.
    holder: tuple[str, Petitioner | None] | None = None

    @property
    def text(self) -> str:
        return " ".join([self.matter, *self.demands])


@dataclass
class Candidate:
    case: Case
    score: float
    same: str  # "matter" (a repeat of it) or "person" (a new matter of a known person)
    reasons: list[str]
    petitioner_id: int | None = None  # the earlier person, when the same person
    person_score: float = 0.0
    text_score: float = 0.0
    petitioner: Petitioner | None = None  # that person, as read (decrypted) for the score

    def as_dict(self) -> dict:
        return {"case": self.case.number, "score": round(self.score, 2), "same": self.same,
                "reasons": self.reasons}


@dataclass
class _Person:
    pk: int
    score: float
    reasons: list[str]
    petitioner: Petitioner | None = None


def _valid_id(value: str) -> str:
    try:
        return validate_id_number(value) if (value or "").strip() else ""
    except ValueError:
        return ""


def _person_score(p: Petitioner, q: MatchQuery, id_number: str, phone: str) -> _Person | None:
    reasons: list[str] = []
    if id_number and p.id_number:
        if p.id_number == id_number:
            return _Person(p.pk, 1.0, [SAME_ID])
        return None  # two valid, different ID numbers: two people
    name_score, name_reason = k.name_likeness(q.name, p.name)
    same_phone = bool(phone) and bool(p.phone) and normalise_phone(p.phone) == phone
    village = q.village.pk if q.village else None
    township = q.township.pk if q.township else (q.village.parent_id if q.village else None)
    same_village = village is not None and p.village_id == village
    same_township = township is not None and p.township_id == township
    if same_phone and name_score:
        reasons = [SAME_PHONE, name_reason]
        score = 0.85 + 0.1 * name_score
    elif name_score and same_village:
        reasons = [f"{name_reason}、{SAME_VILLAGE}"]
        score = 0.55 + 0.3 * name_score
    elif name_score and same_township and (p.village_id is None or village is None):
        reasons = [f"{name_reason}、{SAME_TOWNSHIP}"]
        score = 0.5 + 0.3 * name_score
    else:
        return None
    return _Person(p.pk, min(score, 0.99), reasons)


PERSON_FIELDS = ("id", "name", "id_number", "phone", "township_id", "village_id", "confidential")


def _people_sql(q: MatchQuery, id_number: str, phone: str, township: int | None,
                ring) -> tuple[str, list]:
    """The people statement: one fixed text (built as the ORM would have, without its
    milliseconds of CPU per lookup). One side finds by the exact blind indexes (anywhere) and
    the same township's exact and pinyin names; a UNION adds the fuzzy keys' people, each side
    on its own index (an OR with the keys' subquery would scan the table)."""
    person, key = Petitioner._meta.db_table, PersonKey._meta.db_table
    columns = ", ".join(PERSON_FIELDS)
    tests, params = [], []
    if q.petitioner_id:
        tests.append("id = %s")
        params.append(q.petitioner_id)
    if id_number:
        tests.append("id_number_index = %s")
        params.append(ring.blind_index(id_number, purpose="id_number"))
    if phone:
        tests.append("phone_index = %s")
        params.append(ring.blind_index(phone, purpose="phone"))
    name = (q.name or "").strip()
    by_name = len(name) >= 2 and township
    if by_name:
        tests.append("(township_id = %s AND (name_index = %s OR name_pinyin_index = %s))")
        params += [township, name_index(name, ring=ring), name_pinyin_index(name, ring=ring)]
    sides = [f"SELECT {columns} FROM {person} WHERE {' OR '.join(tests)}"] if tests else []
    if by_name:
        keys = k.person_keys(name, township, ring=ring)
        sides.append(
            f"SELECT {columns} FROM {person} WHERE id IN (SELECT petitioner_id FROM {key} "
            f'WHERE "key" IN ({", ".join(["%s"] * len(keys))}) LIMIT {MAX_PEOPLE * 4})')
        params += keys
    if not sides:
        return "", []
    return f"{' UNION '.join(sides)} ORDER BY 1 DESC LIMIT {MAX_PEOPLE}", params


def _people(q: MatchQuery) -> dict[int, _Person]:
    ring = get_keyring()
    id_number = _valid_id(q.id_number)
    phone = normalise_phone(q.phone) if (q.phone or "").strip() else ""
    township = q.township.pk if q.township else (q.village.parent_id if q.village else None)
    sql, params = _people_sql(q, id_number, phone, township, ring)
    people: dict[int, _Person] = {}
    if not sql:
        return people
    rows = list(Petitioner.objects.raw(sql, params))
    if id_number and len(rows) < MAX_PEOPLE:  # no row cut by the limit: absence is an answer
        holders = [p for p in rows if p.id_number == id_number]  # the first on file, as .first()
        q.holder = (id_number, min(holders, key=lambda p: p.pk) if holders else None)
    for p in rows:
        if p.pk == q.petitioner_id:
            people[p.pk] = _Person(p.pk, 1.0, ["已选定的信访人"], p)
            continue
        scored = _person_score(p, q, id_number, phone)
        if scored is not None and scored.score >= PERSON_AT:
            scored.petitioner = p
            people[p.pk] = scored
    return people


CASE_FIELDS = ("id", "number", "matter", "received_at", "repeat_of_id", "repeat_count",
               "matter_root_id")


def _rejected_here(people: dict[int, _Person], exclude: set[int], case: F) -> Probe:
    """The case was said by a clerk not to be the same as one of these people's cases, or as a
    case the clerk has just rejected in this form (a fixed SQL text, as the door's probes)."""
    theirs, later = tuple(people), tuple(exclude)
    if not theirs and not later:
        return Probe(lambda cols, connection: "1 = 0")
    tests = []
    if theirs:
        tests.append(f"xf_md.later_id IN (SELECT xf_ml.case_id FROM "
                     f"{CasePetitioner._meta.db_table} xf_ml WHERE xf_ml.petitioner_id IN "
                     f"({', '.join(['%s'] * len(theirs))}))")
    if later:
        tests.append(f"xf_md.later_id IN ({', '.join(['%s'] * len(later))})")

    def render(cols, connection):
        return (f"EXISTS (SELECT 1 FROM {MatchDecision._meta.db_table} xf_md WHERE "
                f"xf_md.earlier_id = {cols['case']} AND xf_md.verdict = %s AND "
                f"({' OR '.join(tests)}))")
    return Probe(render, (Verdict.NOT_SAME.value, *theirs, *later), case=case)


def _rows(demands, people, exclude):
    """Demand rows with their case's fields and whether a clerk rejected the case here."""
    return demands.annotate(xf_rejected=_rejected_here(people, exclude, F("case_id"))).values_list(
        "text", "xf_rejected", *(f"case__{f}" for f in CASE_FIELDS))


def _case(fields: list) -> Case:
    """A case with these fields read, the others deferred (loaded if ever touched)."""
    given = dict(zip(CASE_FIELDS, fields, strict=True))
    names = [f.attname for f in Case._meta.concrete_fields if f.attname in given]
    return Case.from_db(DEFAULT_DB_ALIAS, names, [given[n] for n in names])


def find_matches(*, by: Membership, query: MatchQuery, limit: int = MAX_OFFERED,
                 before: datetime | None = None, village: bool = True,
                 scope: QuerySet[Case] | None = None) -> list[Candidate]:
    """At most ``limit`` earlier cases ``by`` may see that the system believes are the same
    person or the same matter as ``query``, best first (see the module's words).

    ``village`` off: the same people's cases only. ``scope``: the cases to look in instead of
    ``by``'s door, people's identity then counting on all of them — for registration, which
    offers nothing and links within its own jurisdiction (a handful of statements)."""
    trusted = scope is not None
    # The door for a few cases read by id: its tests probe each case the lookup reaches (a
    # person's, a village's newest) inside the statements below — the unit subtree and the
    # recusals are not read first.
    scope = (scope if trusted else cases_for(by, one=True)).exclude(state=c.State.MERGED)
    if before is not None:
        scope = scope.filter(received_at__lte=before)
    people = _people(query)
    cases: dict[int, Case] = {}
    texts: dict[int, list[str]] = {}
    rejected = set(query.exclude)
    person_of: dict[int, _Person] = {}
    if people:
        # One filter() call: the person, the role and (through the door) the revealable link
        # are conditions on the same link row — a second filter() would join the case's links
        # again and let another petitioner's link stand in for this person's.
        # The cases are read from the scope itself, not as "demands of cases in (the scope)":
        # SQLite ran that subquery first, over every case received before the instant.
        link = {"petitioner_links__petitioner_id__in": list(people),
                "petitioner_links__role__in": c.PETITIONING_ROLES}
        if not trusted:
            link.update(revealable_link_filter(by, "petitioner_links"))
        rows = (scope.filter(**link)
                .annotate(xf_rejected=_rejected_here(people, query.exclude, F("pk")))
                .values_list("demands__text", "xf_rejected", "petitioner_links__petitioner_id",
                             *CASE_FIELDS)
                .order_by("-received_at")[: MAX_PERSON_CASES * 3])
        for text, no, petitioner_id, *fields in rows:
            if text is None:  # a case without a demand (none is registered so)
                continue
            pk = fields[0]
            if pk not in cases:
                cases[pk] = _case(fields)
            if text not in texts.setdefault(pk, []):
                texts[pk].append(text)
            if no:
                rejected.add(pk)
            best = person_of.get(pk)
            if best is None or people[petitioner_id].score > best.score:
                person_of[pk] = people[petitioner_id]
    if village and query.village is not None and query.categories:
        nearby = (
            scope.filter(village_id=query.village.pk)
            .filter(Exists(Demand.objects.filter(case=OuterRef("pk"),
                                                 category__in=query.categories)))
            .exclude(pk__in=list(cases))
            .order_by("-received_at")
            .values("pk")[:MAX_VILLAGE_CASES]
        )
        for text, no, *fields in _rows(Demand.objects.filter(case_id__in=nearby), people,
                                       query.exclude):
            pk = fields[0]
            if pk not in cases:
                cases[pk] = _case(fields)
            texts.setdefault(pk, []).append(text)
            if no:
                rejected.add(pk)
    words = k.shingles(query.text)
    found: list[Candidate] = []
    for case_id, case in cases.items():
        if case_id in rejected:
            continue
        likeness = k.text_likeness(words, k.shingles(" ".join([case.matter,
                                                              *texts.get(case_id, [])])))
        percent = f"诉求相似 {round(likeness * 100)}%"
        person = person_of.get(case_id)
        if person is not None:
            if likeness >= MATTER_AT:
                # The person's evidence bounds the score: a like name alone never reaches a
                # profile's confirming threshold (0.85), an ID or a phone with a like name does.
                score = person.score * (0.75 + 0.25 * min(1.0, likeness / 0.7))
                found.append(Candidate(case, score, "matter", [*person.reasons, percent],
                                       person.pk, person.score, likeness, person.petitioner))
            else:
                found.append(Candidate(case, 0.6 * person.score, "person", person.reasons,
                                       person.pk, person.score, likeness, person.petitioner))
        elif likeness >= VILLAGE_MATTER_AT:
            found.append(Candidate(case, 0.8 * likeness, "matter",
                                   [SAME_PLACE_CATEGORY, percent], None, 0.0, likeness))
    return _best(found, limit)


def _visit_order(x: Candidate) -> tuple:
    """Later visits of a matter last: the further down its chain, then the later received."""
    return (x.case.repeat_count, x.case.received_at, x.case.pk)


def _best(found: list[Candidate], limit: int) -> list[Candidate]:
    """One offer per matter (its latest visit: an earlier one is reached through it) and one
    "same person" offer per person, and only when no matter of theirs is offered; best first.
    A matter is its first visit (``Case.matter_id``): two visits of it are one offer even when
    the visit between them, worded otherwise, was not found."""
    by_case = {x.case.pk: x for x in found}
    latest: dict[int, Candidate] = {}
    for x in by_case.values():
        if x.same == "matter":
            matter = x.case.matter_id
            if matter not in latest or _visit_order(x) > _visit_order(latest[matter]):
                latest[matter] = x
    kept = [x for x in by_case.values()
            if x.same != "matter" or latest[x.case.matter_id] is x]
    kept.sort(key=lambda x: (x.same != "matter", -x.score, -x.case.received_at.timestamp()))
    out: list[Candidate] = []
    people_offered: set[int] = set()
    for x in kept:
        if x.same == "person":
            if x.petitioner_id in people_offered:
                continue
        if x.petitioner_id is not None:
            people_offered.add(x.petitioner_id)
        out.append(x)
        if len(out) == limit:
            break
    return out
