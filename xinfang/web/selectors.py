"""The petitioner's door: one case by its number and query code, for the public progress page.

``cases.selectors`` has no door for a caller without a membership (``cases_for(None)`` is empty, as
it should be for staff). Until it grows one, this is the only place the web app reads a case
without a membership, and it returns nothing unless both the number and the code match.
"""

from __future__ import annotations

from django.utils.crypto import constant_time_compare

from xinfang.cases.models import Case


def case_for_query_code(number: str, code: str) -> Case | None:
    number, code = (number or "").strip(), (code or "").strip().upper()
    if not number or not code:
        return None
    case = Case.objects.filter(number=number).exclude(query_code="").first()
    if case is None or not constant_time_compare(case.query_code.upper(), code):
        return None
    return case
