"""Writes of the integrations app: tokens authorised by an administrator, collected by their
holder, made on the command line and revoked (each with its audit entry), a token presented on a
request, and a referral registered once however often it is sent."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
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
# Who authorises and revokes tokens: a token is a credential for a role (三员分立: the security
# administrator's domain), which the system administrator may also authorise for the systems it
# runs. Neither ever sees a token's text: the role's holder collects it (``token_collect``).
TOKEN_ADMINS = (Role.SYSADMIN, Role.SECADMIN)
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token per minute for "last used"


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def collect_days() -> int:
    """How many days an authorised token waits for its holder (``XINFANG_TOKEN_COLLECT_DAYS``)."""
    return int(getattr(settings, "XINFANG_TOKEN_COLLECT_DAYS", 7))


def _check_admin(by: Membership | None) -> None:
    if by is not None and (not by.is_active or by.role not in TOKEN_ADMINS):
        raise Refused("只有系统管理员或安全管理员可以授权或撤销接口令牌。")


def _checked(name: str, scopes: list[str]) -> tuple[str, list[str]]:
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
    return name, scopes


def _locked_role(membership_id: int) -> Membership:
    """The token's role read again under its row lock (a withdrawal, ``membership_revoke``, takes
    the same lock), then its account's: a role withdrawn or an account switched off while a form
    was sent refuses here; one withdrawn just after waits for this write and revokes the token
    with the role's others. Always role, then account, then token: the order the withdrawal and
    the switching off take them in."""
    membership = (Membership.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("user", "unit").get(pk=membership_id))
    account = locked_user(User, membership.user_id, "is_active")
    membership.user.is_active = account.is_active
    return membership


def _usable_role(membership: Membership, *, doing: str) -> None:
    if not membership.is_active or not membership.user.is_active:
        raise Refused(f"该任职或其账户已停用，不能{doing}。", field="membership")
    if membership.role in ADMIN_ROLES:
        raise Refused("三员（系统、安全、审计管理员）的任职不能用于接口令牌。", field="membership")


def _detail(token: ApiToken, membership: Membership, change: str, by: Membership | None,
            **more) -> dict:
    return {"change": change, "name": token.name, "prefix": token.prefix,
            "membership": membership.pk, "user": membership.user.username,
            "unit": membership.unit.name, "role": membership.role, "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "by_role": by.role if by else "cli", **more}


def _new_text(token: ApiToken, now: datetime) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.prefix, token.digest, token.collected_at = raw[:10], digest_of(raw), now
    return raw


@transaction.atomic
def token_authorise(
    *, by: Membership, membership: Membership, name: str, scopes: list[str],
    expires_at: datetime | None = None, ip: str = "",
) -> ApiToken:
    """Authorise a token for ``membership``: it waits (待领取) for the membership's holder to
    collect it within ``collect_days()``; until then it has no text and authenticates nothing."""
    if by is None:
        raise Refused("授权须由系统管理员或安全管理员办理。")
    _check_admin(by)
    name, scopes = _checked(name, scopes)
    membership = _locked_role(membership.pk)
    _usable_role(membership, doing="为其授权令牌")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise Refused("有效期须晚于当前时间。", field="expires_at")
    token = ApiToken.objects.create(
        name=name, membership=membership, scopes=scopes, prefix="", digest=None,
        created_at=now, created_by=by.user, created_by_name=str(by.user), expires_at=expires_at,
        collect_until=now + timedelta(days=collect_days()),
    )
    audit_record(
        action=PERMISSION_CHANGE, actor=by, object_type="api_token", object_id=token.pk, ip=ip,
        detail=_detail(token, membership, "token_authorise", by,
                       collect_until=token.collect_until.isoformat()),
    )
    return token


@transaction.atomic
def token_collect(*, by: User, token: ApiToken, ip: str = "") -> tuple[ApiToken, str]:
    """The holder of the token's membership, signed in as themselves, collects its text: made now,
    returned once, never stored. A second collection — another tab, a reload — is refused."""
    membership = _locked_role(token.membership_id)
    if by is None or membership.user_id != by.pk:
        raise Refused("接口令牌只能由其任职的本人登录后领取。")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    now = timezone.now()
    if token.revoked_at:
        when = timezone.localtime(token.revoked_at)
        raise Refused(f"令牌“{token.name}”已撤销（{when:%Y-%m-%d %H:%M}），不能领取。")
    if token.collected_at:
        when = timezone.localtime(token.collected_at)
        raise Refused(f"令牌“{token.name}”已领取（{when:%Y-%m-%d %H:%M}），不能再次领取；"
                      "如未保存，请联系管理员撤销后重新授权。")
    if token.status(now) == "lapsed":
        when = timezone.localtime(token.collect_until)
        raise Refused(f"令牌“{token.name}”逾期未领取（领取期限{when:%Y-%m-%d %H:%M}），"
                      "已失效；请联系管理员重新授权。")
    _usable_role(membership, doing="领取令牌")
    if token.expires_at is not None and token.expires_at <= now:
        raise Refused(f"令牌“{token.name}”已过有效期，不能领取；请联系管理员重新授权。")
    raw = _new_text(token, now)
    token.save(update_fields=["prefix", "digest", "collected_at"])
    audit_record(
        action=PERMISSION_CHANGE, actor=by, object_type="api_token", object_id=token.pk, ip=ip,
        detail=_detail(token, membership, "token_collect", None, by_role="holder",
                       authorised_by=token.created_by_name),
    )
    return token, raw


@transaction.atomic
def token_create(
    *, membership: Membership, name: str, scopes: list[str], actor_name: str,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """The command line's token (``xinfang tokens create``): authorised and collected at once and
    printed to the server's operator, who holds the keys to everything anyway. The pages never
    call this: there the holder collects (``token_authorise``, ``token_collect``)."""
    name, scopes = _checked(name, scopes)
    membership = _locked_role(membership.pk)
    _usable_role(membership, doing="为其创建令牌")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise Refused("有效期须晚于当前时间。", field="expires_at")
    token = ApiToken(name=name, membership=membership, scopes=scopes, created_at=now,
                     created_by=None, created_by_name=actor_name, expires_at=expires_at,
                     collect_until=now)
    raw = _new_text(token, now)
    token.save()
    audit_record(
        action=PERMISSION_CHANGE, actor=None, actor_name=actor_name, object_type="api_token",
        object_id=token.pk, detail=_detail(token, membership, "token_create", None),
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
