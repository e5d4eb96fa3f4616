"""Declaring and withdrawing a recusal (seed 000 §九: connected staff recuse). Both are audited;
a recusal is never deleted, only withdrawn."""

from __future__ import annotations

from django.db import transaction

from xinfang.audit.services import PERMISSION_CHANGE, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case, Petitioner

from .models import Recusal


@transaction.atomic
def recusal_declare(
    *, user, reason: str, case: Case | None = None, petitioner: Petitioner | None = None,
    matter_words: str = "", declared_by=None,
) -> Recusal:
    """``user`` declares a connection to a case, a person, or a matter (words in its text)."""
    if not reason.strip():
        raise Refused("请写明回避理由。", field="reason")
    if not (case or petitioner or matter_words.strip()):
        raise Refused("请指明回避的信访件、信访人或事项关键词。", field="case")
    if matter_words and len(matter_words.strip()) < 2:
        raise Refused("事项关键词至少两个字，以免误伤无关案件。", field="matter_words")
    recusal = Recusal.objects.create(user=user, case=case, petitioner=petitioner,
                                     matter_words=matter_words.strip(), reason=reason.strip())
    audit_record(action=PERMISSION_CHANGE, actor=declared_by or user, object_type="recusal",
                 object_id=recusal.pk, detail={
                     "change": "recusal_declared", "user": user.username,
                     "case": case.number if case else None,
                     "petitioner": petitioner.pk if petitioner else None,
                     "matter_words": recusal.matter_words, "reason": recusal.reason})
    return recusal


@transaction.atomic
def recusal_withdraw(*, recusal: Recusal, by, reason: str) -> Recusal:
    if not reason.strip():
        raise Refused("请写明撤回理由。", field="reason")
    recusal.is_active = False
    recusal.save(update_fields=["is_active"])
    audit_record(action=PERMISSION_CHANGE, actor=by, object_type="recusal", object_id=recusal.pk,
                 detail={"change": "recusal_withdrawn", "user": recusal.user.username,
                         "reason": reason})
    return recusal
