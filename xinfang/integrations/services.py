"""Writes of the integrations app: tokens created and revoked (each with its audit entry), a token
presented on a request, and a referral registered once however often it is sent."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.audit.services import PERMISSION_CHANGE, audit_record
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services import Registration, case_register
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, User
from xinfang.security.auth import locked_user

from .models import ApiToken, IntakeKey, Scope

TOKEN_PREFIX = "xf_"
# Who creates and revokes tokens: a token is a credential for a role (三员分立: the security
# administrator's domain), which the system administrator may also issue for the systems it runs.
TOKEN_ADMINS = (Role.SYSADMIN, Role.SECADMIN)
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token per minute for "last used"


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _check_admin(by: Membership | None) -> None:
    if by is not None and (not by.is_active or by.role not in TOKEN_ADMINS):
        raise Refused("只有系统管理员或安全管理员可以创建或撤销接口令牌。")


@transaction.atomic
def token_create(
    *, by: Membership | None, membership: Membership, name: str, scopes: list[str],
    expires_at: datetime | None = None, ip: str = "", actor_name: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``membership``; returns it and the token text, which is shown once and
    never stored. ``by`` is None on the command line (``actor_name`` says who ran it)."""
    _check_admin(by)
    name = (name or "").strip()
    if not name:
        raise Refused("请填写名称（对接的系统）。", field="name")
    if len(name) > 100:
        raise Refused("名称不能超过100个字。", field="name")
    scopes = list(dict.fromkeys(scopes or []))
    if not scopes:
        raise Refused("至少选择一项权限范围。", field="scopes")
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        raise Refused(f"未知的权限范围：{'、'.join(unknown)}（可选：{'、'.join(Scope.values)}）",
                      field="scopes")
    # Read again under the role's row lock (a withdrawal, ``membership_revoke``, takes the same
    # lock): a role withdrawn while this form was sent refuses here, and one withdrawn just
    # after waits for this token and revokes it with the role's others.
    membership = (Membership.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("user", "unit").get(pk=membership.pk))
    # The account's row too: switched off at this moment (``user_set_active``), it is read off
    # here, or its switching off waits for this token and revokes it.
    account = locked_user(User, membership.user_id, "is_active")
    if not membership.is_active or not account.is_active:
        raise Refused("该任职或其账户已停用，不能为其创建令牌。", field="membership")
    if membership.role in ADMIN_ROLES:
        raise Refused("三员（系统、安全、审计管理员）的任职不能用于接口令牌。", field="membership")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise Refused("有效期须晚于当前时间。", field="expires_at")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, membership=membership, scopes=scopes, prefix=raw[:10], digest=digest_of(raw),
        created_at=now, created_by=by.user if by else None,
        created_by_name=actor_name or (str(by.user) if by else ""), expires_at=expires_at,
    )
    audit_record(
        action=PERMISSION_CHANGE, actor=by, actor_name=actor_name, object_type="api_token",
        object_id=token.pk, ip=ip,
        detail={"change": "token_create", "name": name, "prefix": token.prefix,
                "membership": membership.pk, "user": membership.user.username,
                "unit": membership.unit.name, "role": membership.role, "scopes": scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "by_role": by.role if by else "cli"},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, by: Membership | None, token: ApiToken, ip: str = "",
                 actor_name: str | None = None) -> ApiToken:
    """Revoke ``token`` from now on (its next request is refused); it stays listed."""
    _check_admin(by)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at:
        when = timezone.localtime(token.revoked_at)
        raise Refused(f"令牌“{token}”已于{when:%Y-%m-%d %H:%M}撤销。")
    token.revoked_at = timezone.now()
    token.revoked_by_name = actor_name or (str(by.user) if by else "")
    token.save(update_fields=["revoked_at", "revoked_by_name"])
    audit_record(
        action=PERMISSION_CHANGE, actor=by, actor_name=actor_name, object_type="api_token",
        object_id=token.pk, ip=ip,
        detail={"change": "token_revoke", "name": token.name, "prefix": token.prefix,
                "membership": token.membership_id, "by_role": by.role if by else "cli"},
    )
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token with this text — not revoked, not expired, its membership and account
    active — or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (ApiToken.objects.select_related("membership__user", "membership__unit")
             .filter(digest=digest_of(raw)).first())
    now = timezone.now()
    if token is None or token.status(now) != "active":
        return None
    membership = token.membership
    if not membership.is_active or not membership.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# -- referral intake ------------------------------------------------------------------------------


@dataclass
class Intake:
    case: Case
    replayed: bool  # the sender's reference was registered before: no new case
    routed: dict | None = None  # what the first answer said of a case routed elsewhere


class IntakeConflict(Refused):
    """The sender's reference was registered before with a different content."""

    def __init__(self, message: str, *, field: str, case: Case):
        super().__init__(message, field=field)
        self.case = case


def _replay(row: IntakeKey, fingerprint: str, field: str) -> Intake:
    if row.fingerprint != fingerprint:
        raise IntakeConflict(
            f"该编号已用于登记信访件{row.case.number}，但这次发来的内容与当时不同；"
            "如是新的转交件，请使用新的编号。", field=field, case=row.case)
    return Intake(case=row.case, replayed=True, routed=row.routed)


def intake_register(
    *, by: Membership, data: Registration, key: str, fingerprint: str, field: str,
    routed_body: Callable[[Case], dict] | None = None,
) -> Intake:
    """Register ``data`` unless this office registered the sender reference ``key`` before; then
    answer with that case. The key is claimed by the same transaction that registers: a second
    sender racing the first waits on the unique index until the first commits, then finds its
    case (PostgreSQL); SQLite's IMMEDIATE transactions let only one in at a time anyway.
    ``field`` names the input the key came from (for the error of a reused key)."""
    found = IntakeKey.objects.select_related("case").filter(unit=by.unit, key=key).first()
    if found:
        return _replay(found, fingerprint, field)
    try:
        with transaction.atomic():
            # Claimed first, so a racing duplicate blocks here rather than registering too.
            row = IntakeKey.objects.create(unit=by.unit, key=key, fingerprint=fingerprint,
                                           case_id=None)
            case = case_register(by=by, data=data)
            row.case = case
            row.routed = routed_body(case) if (routed_body and case.routed) else None
            row.save(update_fields=["case", "routed"])
    except IntegrityError:
        found = IntakeKey.objects.select_related("case").filter(unit=by.unit, key=key).first()
        if found is None or found.case_id is None:
            raise
        return _replay(found, fingerprint, field)
    return Intake(case=case, replayed=False)
