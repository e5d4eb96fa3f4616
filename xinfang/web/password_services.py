"""Passwords (三员分立): a reset issues a one-time password, and an administrator's reset needs a
second administrator.

- ``user_password_reset`` — the system administrator resets an ordinary account. A one-time
  password is generated (nobody chooses it) and shown once; the account must change it at its
  next sign-in (``User.must_change_password``; ``security.gate`` allows nothing else meanwhile).
  The password is never stored in clear, sent in a message cookie or audited.
- ``password_reset_request`` / ``password_reset_approve`` / ``password_reset_refuse`` — an account
  holding an administrator role (系统、安全或审计管理员) is reset only when a *different*
  administrator (system or security administrator, neither the asker nor the account) approves
  the pending request; the approval issues the one-time password. Every step is audited.
- ``password_change`` — anyone changes their own password, giving the current one.

A reset does not remove the account's TOTP: an administrator who enrolled a second factor cannot
be signed in as with the one-time password alone.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import PROFILE_CHANGE, audit_record
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, User
from xinfang.security.auth import locked_message, locked_user, password_check_failed
from xinfang.security.models import PasswordResetRequest

from .admin_services import AdminRefused, _audit, _check_password, _require

APPROVER_ROLES = {Role.SYSADMIN, Role.SECADMIN}
ONE_TIME_LENGTH = 14
_ALPHABET = {  # no 0/O, 1/l/I: the password is read out or copied by hand
    "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "lower": "abcdefghijkmnpqrstuvwxyz",
    "digit": "23456789",
    "symbol": "#%+=?@",
}


def password_one_time(user: User | None = None) -> str:
    """A random password of every character class that the validators accept."""
    pool = "".join(_ALPHABET.values())
    while True:
        chars = [secrets.choice(group) for group in _ALPHABET.values()]
        chars += [secrets.choice(pool) for _ in range(ONE_TIME_LENGTH - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        candidate = "".join(chars)
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate


def holds_admin_role(user: User) -> bool:
    return Membership.objects.filter(user=user, is_active=True, role__in=ADMIN_ROLES).exists()


def _issue(user: User) -> str:
    password = password_one_time(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    return password


@transaction.atomic
def user_password_reset(*, by: Membership, user: User, ip: str = "") -> str:
    """Reset an ordinary account; returns the one-time password to hand over."""
    _require(by, Role.SYSADMIN)
    user = locked_user(User, user.pk)
    if user.pk == by.user_id:
        raise AdminRefused(_("请在“我的账户”中修改自己的密码。"))
    if holds_admin_role(user):
        raise AdminRefused(
            _("%(user)s是管理员，重置其密码须由另一名管理员批准，请提交重置申请。") % {"user": user}
        )
    password = _issue(user)
    _audit(
        PROFILE_CHANGE,
        by,
        "user",
        user.pk,
        ip,
        change="password_reset",
        username=user.username,
        one_time=True,
    )
    return password


@transaction.atomic
def password_reset_request(
    *, by: Membership, user: User, reason: str, ip: str = ""
) -> PasswordResetRequest:
    """Ask for an administrator's password to be reset; a second administrator approves."""
    _require(by, Role.SYSADMIN)
    if user.pk == by.user_id:
        raise AdminRefused(_("请在“我的账户”中修改自己的密码。"))
    if not reason.strip():
        raise AdminRefused(_("请写明重置理由。"), field="reason")
    try:
        with transaction.atomic():
            req = PasswordResetRequest.objects.create(
                user=user,
                requested_by=by.user,
                requested_at=timezone.now(),
                reason=reason.strip()[:200],
            )
    except IntegrityError as e:
        raise AdminRefused(_("%(user)s已有待批准的重置申请。") % {"user": user}) from e
    _audit(
        PROFILE_CHANGE,
        by,
        "password_reset_request",
        req.pk,
        ip,
        change="password_reset_requested",
        username=user.username,
        reason=req.reason,
    )
    return req


def _pending(req: PasswordResetRequest, by: Membership) -> PasswordResetRequest:
    if by is None or not by.is_active or by.role not in APPROVER_ROLES:
        raise AdminRefused(_("只有系统管理员或安全管理员可以审批密码重置。"))
    req = PasswordResetRequest.objects.select_for_update().select_related("user").get(pk=req.pk)
    if req.status != PasswordResetRequest.Status.PENDING:
        raise AdminRefused(_("该申请已处理。"))
    if by.user_id in (req.requested_by_id, req.user_id):
        raise AdminRefused(_("须由申请人和被重置账户以外的另一名管理员审批。"))
    return req


@transaction.atomic
def password_reset_approve(*, by: Membership, req: PasswordResetRequest, ip: str = "") -> str:
    """Approve and carry out the reset; returns the one-time password (shown once)."""
    req = _pending(req, by)
    user = locked_user(User, req.user_id)
    password = _issue(user)
    req.status = PasswordResetRequest.Status.APPROVED
    req.decided_by, req.decided_at = by.user, timezone.now()
    req.save(update_fields=["status", "decided_by", "decided_at"])
    _audit(
        PROFILE_CHANGE,
        by,
        "user",
        user.pk,
        ip,
        change="password_reset",
        username=user.username,
        one_time=True,
        request=req.pk,
        requested_by=req.requested_by.username,
    )
    return password


@transaction.atomic
def password_reset_refuse(*, by: Membership, req: PasswordResetRequest, ip: str = "") -> None:
    req = _pending(req, by)
    req.status = PasswordResetRequest.Status.REFUSED
    req.decided_by, req.decided_at = by.user, timezone.now()
    req.save(update_fields=["status", "decided_by", "decided_at"])
    _audit(
        PROFILE_CHANGE,
        by,
        "password_reset_request",
        req.pk,
        ip,
        change="password_reset_refused",
        username=req.user.username,
    )


def password_change(*, user: User, old: str, new: str, ip: str = "") -> User:
    """The user sets their own password; the current one is required (a one-time one too)."""
    user = User.objects.get(pk=user.pk)
    locked = locked_message(user)
    if locked:
        raise AdminRefused(locked, field="old_password")
    if not user.check_password(old):
        # counted like a failed sign-in (its own transaction: the count must outlive this refusal)
        message = password_check_failed(user, message=_("当前密码不正确。"), ip=ip)
        raise AdminRefused(message, field="old_password")
    if old == new:
        raise AdminRefused(_("新密码不能与当前密码相同。"), field="password1")
    try:
        _check_password(new, user)
    except AdminRefused as e:
        raise AdminRefused(e.message, field="password1") from e
    with transaction.atomic():
        user.set_password(new)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit_record(
            action=PROFILE_CHANGE,
            actor=user,
            object_type="user",
            object_id=user.pk,
            ip=ip,
            detail={"change": "password_change"},
        )
    return user
