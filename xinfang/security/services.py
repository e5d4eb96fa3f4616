"""Declaring and withdrawing a recusal (seed 000 §九(二): "工作人员与信访举报事项和信访举报人有直接
关联的必须回避"). Both are audited, naming the operator as well as the person concerned; a recusal
is never deleted, only withdrawn.

Who may (the same rules for the pages and any other caller that acts as a membership):
- anyone who works on cases declares their own recusal — the person connected knows it first;
- the office's leaders (分管领导, 主要领导) also declare it for staff working in their jurisdiction,
  and they alone withdraw one — never their own, so nobody lifts a recusal from themselves;
- the three administrators do neither (三员分立: they never touch cases).
The command line acts as no membership: its operator is named in the audit entry instead.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from xinfang.audit.services import PERMISSION_CHANGE, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case, Petitioner
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, Unit

from .auth import locked_user
from .models import Recusal

LEADERS = frozenset({Role.APPROVER, Role.CHIEF})


def led_jurisdiction(by: Membership) -> Unit | None:
    """The jurisdiction whose staff this membership may declare and withdraw recusals for: a
    leader's, when the leader sits in that jurisdiction's office; else None."""
    from xinfang.cases.services.base import is_office_of

    if by.role not in LEADERS or not by.is_active:
        return None
    home = by.unit if by.unit.profile_code else by.unit.jurisdiction()
    if home is None or not is_office_of(by.unit, Case(jurisdiction=home)):
        return None
    return home


def works_in(user, jurisdiction: Unit) -> bool:
    return (
        Membership.objects.filter(
            user=user, is_active=True, unit__path__under=jurisdiction.path
        )
        .exclude(role__in=ADMIN_ROLES)
        .exists()
    )


def declare_refusal(*, by: Membership, user) -> str | None:
    """Why ``by`` may not declare a recusal for ``user``, or None."""
    if not by.is_active or by.role in ADMIN_ROLES:
        return "系统管理员、安全管理员和审计管理员不办理回避申报。"
    if user.pk == by.user_id:
        return None
    home = led_jurisdiction(by)
    if home is not None and works_in(user, home):
        return None
    return "只能为本人申报回避；分管领导、主要领导可为本辖区工作人员申报。"


def withdraw_refusal(*, by: Membership, recusal: Recusal) -> str | None:
    """Why ``by`` may not withdraw ``recusal``, or None."""
    if not recusal.is_active:
        return "该回避申报已撤回。"
    if recusal.user_id == by.user_id:
        return "不能撤回本人的回避申报，须由本机关分管领导或主要领导撤回。"
    home = led_jurisdiction(by)
    if home is None or not works_in(recusal.user, home):
        return "只有被回避人所在辖区的分管领导或主要领导可以撤回回避申报。"
    return None


def _operator(by: Membership | None, actor_name: str) -> dict:
    if by is None:
        return {"declared_by": actor_name or "命令行"}
    return {"declared_by": by.user.username, "operator_role": by.role,
            "operator_unit": by.unit.name}


@transaction.atomic
def recusal_declare(
    *, user, reason: str, case: Case | None = None, petitioner: Petitioner | None = None,
    matter_words: str = "", by: Membership | None = None, actor_name: str = "",
) -> Recusal:
    """``user`` is connected to a case, a person, or a matter (words in its text). ``by`` is the
    membership putting it on record (None: the command line, named by ``actor_name``)."""
    if by is not None:
        why = declare_refusal(by=by, user=user)
        if why:
            raise Refused(why, field="user")
    if not reason.strip():
        raise Refused("请写明回避理由。", field="reason")
    if not (case or petitioner or matter_words.strip()):
        raise Refused("请指明回避的信访件、信访人或事项关键词。", field="case")
    if matter_words and len(matter_words.strip()) < 2:
        raise Refused("事项关键词至少两个字，以免误伤无关案件。", field="matter_words")
    # One recusal in force per person and object: a declaration sent twice (a double click, a
    # retried request) is the one on record, not a twin that stays in force once it is withdrawn.
    # The person's row is held so that two at once are one after the other.
    locked_user(type(user), user.pk, "is_active")
    same = Recusal.objects.filter(user=user, is_active=True, case=case, petitioner=petitioner,
                                  matter_words=matter_words.strip()).first()
    if same is not None:
        if same.reason == reason.strip():
            return same
        raise Refused(f"已有同一回避申报在案（理由：{same.reason}），如需更改请先撤回。",
                      field="case" if case else "petitioner" if petitioner else "matter_words")
    recusal = Recusal.objects.create(
        user=user, case=case, petitioner=petitioner, matter_words=matter_words.strip(),
        reason=reason.strip(), declared_by=by.user if by else None)
    audit_record(
        action=PERMISSION_CHANGE, actor=by.user if by else None,
        actor_name=None if by else (actor_name or "命令行"),
        object_type="recusal", object_id=recusal.pk,
        detail={"change": "recusal_declared", "user": user.username, **_operator(by, actor_name),
                "case": case.number if case else None,
                "petitioner": petitioner.pk if petitioner else None,
                "matter_words": recusal.matter_words, "reason": recusal.reason})
    return recusal


@transaction.atomic
def recusal_withdraw(
    *, recusal: Recusal, by: Membership | None, reason: str, actor_name: str = ""
) -> Recusal:
    """Lift a recusal, keeping it on record. ``by`` None is the command line."""
    recusal = Recusal.objects.select_for_update().get(pk=recusal.pk)
    if by is not None:
        why = withdraw_refusal(by=by, recusal=recusal)
        if why:
            raise Refused(why)
    elif not recusal.is_active:
        raise Refused("该回避申报已撤回。")
    if not reason.strip():
        raise Refused("请写明撤回理由。", field="reason")
    recusal.is_active = False
    recusal.withdrawn_at = timezone.now()
    recusal.withdrawn_by = by.user if by else None
    recusal.withdraw_reason = reason.strip()
    recusal.save(update_fields=["is_active", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
    operator = _operator(by, actor_name)
    operator["withdrawn_by"] = operator.pop("declared_by")
    audit_record(
        action=PERMISSION_CHANGE, actor=by.user if by else None,
        actor_name=None if by else (actor_name or "命令行"),
        object_type="recusal", object_id=recusal.pk,
        detail={"change": "recusal_withdrawn", "user": recusal.user.username, **operator,
                "reason": recusal.withdraw_reason})
    return recusal
