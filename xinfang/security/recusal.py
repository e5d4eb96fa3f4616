from __future__ import annotations

from xinfang.cases.memo import memoised

from .models import Recusal


@memoised
def recusal_reason(*, user, case) -> str | None:
    """Why this user must stay away from this case, or None."""
    if case.pk is None:
        return None
    petitioner_ids = set(case.petitioner_links.values_list("petitioner_id", flat=True))
    for r in Recusal.objects.filter(user=user, is_active=True):
        if r.case_id == case.pk or (r.petitioner_id and r.petitioner_id in petitioner_ids):
            return r.reason
        if r.matter_words and r.matter_words in case.matter:
            return r.reason
    return None


def unit_recusal_reason(*, unit, case) -> str | None:
    """A unit may not receive a case when it is the respondent (the unit complained about)."""
    from xinfang.cases.services.base import is_respondent_side

    if is_respondent_side(case, unit=unit):
        return f"{unit}是（或隶属于）本件的被反映对象，不能承办本件"
    return None
