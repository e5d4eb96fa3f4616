"""The one permission door for reading cases: every list, page, export, search and API call asks
``cases_for(membership)`` and works on what it returns. Nothing reads ``Case.objects`` directly.

Who sees what (issue 4, seed 000 §九):
- the petition office (clerk, approver, chief) and inspectors: the cases of their jurisdiction and
  of the jurisdictions under it;
- a handling unit (unit_handler, proxy_agent, line_head, discipline): the cases ever assigned to it
  or to a unit under it;
- the three administrators: no case at all;
- never a case in which the user, or the user's unit, is the respondent, nor one the user has
  recused from.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.crypto import constant_time_compare

from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership
from xinfang.security.models import Recusal

from .choices import AssignmentStatus
from .models import Assignment, Case, CasePetitioner, Respondent
from .services.base import is_office_of

OFFICE_READERS = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
UNIT_READERS = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}


def cases_for(by: Membership | None) -> QuerySet[Case]:
    if by is None or not by.is_active or by.role in ADMIN_ROLES:
        return Case.objects.none()
    unit = by.unit
    if by.role in OFFICE_READERS:
        home = unit if unit.profile_code else unit.jurisdiction()
        if home is None or (
            by.role != Role.INSPECTOR and not is_office_of(unit, Case(jurisdiction=home))
        ):
            return Case.objects.none()
        scope = Q(jurisdiction__path__startswith=home.path)
    elif by.role in UNIT_READERS:
        # Not a case transferred away (to discipline, when the misconduct may be the unit's own):
        # the unit sees what it handles, or handled to the end.
        handled = Assignment.objects.filter(
            case=OuterRef("pk"),
            unit__path__startswith=unit.path,
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.ENDED],
        )
        scope = Q(Exists(handled))
    else:
        return Case.objects.none()
    # A user inside the accused unit (the unit itself or any unit under it) never sees the case.
    inside = [int(p) for p in unit.path.strip("/").split("/") if p]
    respondent = Respondent.objects.filter(case=OuterRef("pk")).filter(
        Q(unit_id__in=inside) | Q(user=by.user)
    )
    recusals = Recusal.objects.filter(user=by.user, is_active=True)
    recused_cases = recusals.exclude(case=None).values("case")
    recused_people = recusals.exclude(petitioner=None).values("petitioner")
    qs = (
        Case.objects.filter(scope)
        .exclude(Exists(respondent))
        .exclude(pk__in=recused_cases)
        .exclude(
            Exists(
                CasePetitioner.objects.filter(case=OuterRef("pk"), petitioner__in=recused_people)
            )
        )
    )
    for words in recusals.exclude(matter_words="").values_list("matter_words", flat=True):
        qs = qs.exclude(matter__contains=words)
    return qs


def case_for(by: Membership | None, pk: int) -> Case:
    """One case through the door; raises Case.DoesNotExist (a 404) outside the user's scope."""
    return cases_for(by).get(pk=pk)


def case_for_query_code(number: str, code: str) -> Case | None:
    """The petitioner's own door (no sign-in): the case number and the query code printed on the
    acceptance notice, compared in constant time. None for any mismatch."""
    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    case = Case.objects.filter(number=number).exclude(query_code="").first()
    if case is None or not constant_time_compare(case.query_code.upper(), code):
        return None
    return case
