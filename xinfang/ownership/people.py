"""A person's page (issue 14): every case of theirs the user may see, grouped by matter (the
root of the ``Case.repeat_of`` chain, kept on each repeat as ``matter_root``: the same matter,
visit after visit), the open warnings, and the leaders who own them.

Through the one door (``cases_for``) and the masking rules of ``xinfang.cases.disclosure``: the
person is always shown masked here (a reveal is the case page's logged action); a person who
asked for confidentiality — in any case, or in the case at hand — is listed in a case only for
those who may reveal them there (``revealable_links``: the case's own petition office), so a
handling unit never learns, by a page about the person, which of its cases hold that person,
nor which other cases they have. A person with no case left to show is "not found", exactly like
a person who does not exist.

A read costs a fixed number of queries whatever the number of cases and the depth of the matter
chains (each case names its matter's root).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import get_language

from xinfang.cases import choices as c
from xinfang.cases.disclosure import petitioner_fields, revealable_links
from xinfang.cases.models import Case, CasePetitioner, Petitioner, WarningNotice
from xinfang.cases.selectors import cases_for
from xinfang.org.models import Membership

from .models import OwnershipItem

# What the page, the API and the command show of a link and its case (not the case's 55
# columns): the links of a petitioner with 199 cases are read in one statement.
LINK_COLUMNS = (
    "case_id", "petitioner_id", "role", "confidential",
    "case__number", "case__received_at", "case__state", "case__matter", "case__repeat_count",
    "case__matter_root", "case__leader_owner__full_name", "case__leader_owner__username",
)


class PersonNotFound(Exception):
    """No such person, or none of their cases may be shown to this membership."""


@dataclass
class CaseRow:
    case: Case
    role: str
    visit: int  # which visit on its matter (repeat_count + 1)
    warnings: list[WarningNotice] = field(default_factory=list)
    items: list[OwnershipItem] = field(default_factory=list)


@dataclass
class Matter:
    root_id: int
    cases: list[CaseRow]

    @property
    def first(self) -> Case:
        return self.cases[0].case

    @property
    def latest(self) -> Case:
        return self.cases[-1].case

    @property
    def visits(self) -> int:
        """Visits on the matter: the latest visit's number (earlier ones the user may not see
        count too), at least the cases shown."""
        return max(max(r.visit for r in self.cases), len(self.cases))

    @property
    def leaders(self) -> list[str]:
        names = []
        for r in self.cases:
            owner = r.case.leader_owner
            if owner is not None:
                name = owner.full_name or owner.username
                if name not in names:
                    names.append(name)
        return names

    @property
    def open(self) -> bool:
        return any(r.case.state in c.OPEN_STATES for r in self.cases)


@dataclass
class Person:
    petitioner: Petitioner
    shown: dict[str, str]  # masked name, id number, phone, address
    confidential: bool
    matters: list[Matter]
    open_warnings: list[WarningNotice]
    pending_items: list[OwnershipItem]

    @property
    def cases(self) -> list[CaseRow]:
        return [r for m in self.matters for r in m.cases]

    @property
    def leaders(self) -> list[str]:
        names = []
        for m in self.matters:
            names += [n for n in m.leaders if n not in names]
        return names


def visible_links(by: Membership | None, petitioner_id: int):
    """The person's petitioner links in cases ``by`` may see and may list the person in."""
    # The person's case ids first, then the door over those cases alone. Asked as "the links
    # whose case is among every case the door lets in", PostgreSQL planned for the person's
    # links with the door's respondents test charged to each lookup by id, and hashed the
    # county's 50,000 case ids instead (14 ms for the busy county's most frequent petitioner,
    # 236 cases, 1M); given the ids it looks them up (2.4 ms). SQLite's page 24 -> 15 ms.
    theirs = list(CasePetitioner.objects.filter(petitioner_id=petitioner_id)
                  .values_list("case_id", flat=True))
    links = CasePetitioner.objects.filter(
        petitioner_id=petitioner_id, case__in=cases_for(by).filter(pk__in=theirs).values("pk"))
    secret = Q(confidential=True) | Q(petitioner__confidential=True)
    return links.filter(~secret | Q(pk__in=revealable_links(by).filter(
        petitioner_id=petitioner_id).values("pk")))


def person_for(by: Membership | None, petitioner_id: int) -> Person:
    """The person's page as ``by`` may see it; raises ``PersonNotFound``."""
    links = list(visible_links(by, petitioner_id)
                 .select_related("case", "case__leader_owner")
                 .only(*LINK_COLUMNS)
                 .order_by("case__received_at", "case_id", "pk"))
    if not links:
        raise PersonNotFound(petitioner_id)
    # The person once: read with each link, their four encrypted columns were decrypted for
    # every case (796 decryptions for a petitioner's 199 cases, 11 ms of the page at 1M).
    person = Petitioner.objects.get(pk=petitioner_id)
    cases = list({link.case_id: link.case for link in links}.values())
    roles = {}
    language = get_language()  # once, not through its thread-local per link
    for link in links:
        roles.setdefault(link.case_id, c.label_of(c.PetitionerRole, link.role, language))
    ids = [x.pk for x in cases]
    by_id = {x.pk: x for x in cases}
    warnings: dict[int, list[WarningNotice]] = {}
    for notice in (WarningNotice.objects.filter(case_id__in=ids, answered_at=None)
                   .select_related("follow_up").order_by("issued_at", "pk")):
        notice.case = by_id[notice.case_id]  # no query per row for its number
        warnings.setdefault(notice.case_id, []).append(notice)
    items: dict[int, list[OwnershipItem]] = {}
    for item in (OwnershipItem.objects.filter(case_id__in=ids)
                 .select_related("updated_by").order_by("position", "pk")):
        item.case = by_id[item.case_id]
        items.setdefault(item.case_id, []).append(item)
    groups: dict[int, list[CaseRow]] = {}
    for x in cases:
        groups.setdefault(x.matter_id, []).append(CaseRow(
            case=x, role=roles[x.pk], visit=x.repeat_count + 1,
            warnings=warnings.get(x.pk, []), items=items.get(x.pk, [])))
    matters = [Matter(root, rows) for root, rows in groups.items()]
    matters.sort(key=lambda m: (not m.open, -m.latest.received_at.timestamp()))
    open_warnings = [n for x in cases for n in warnings.get(x.pk, [])]
    pending = [i for x in cases if x.state in c.OPEN_STATES for i in items.get(x.pk, [])
               if i.status != OwnershipItem.Status.DONE]
    return Person(
        petitioner=person,
        shown=petitioner_fields(person, revealed=False),
        confidential=person.confidential or any(link.confidential for link in links),
        matters=matters, open_warnings=open_warnings, pending_items=pending,
    )


def may_open_person(by: Membership | None, *, confidential: bool, reach) -> bool:
    """Whether the case page links a petitioner to their page: not a confidential person for a
    viewer who may not reveal them in this case (the page would not show them)."""
    from xinfang.cases.disclosure import Reach

    return not confidential or reach is Reach.ALL
