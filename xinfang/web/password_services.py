"""Passwords (三员分立): a reset issues a one-time password, and an administrator's reset needs a
second administrator.

- ``user_password_reset`` — the system administrator resets an ordinary (business) account: the
  old password stops working at once (the account's sessions end), and a ``PasswordHandover``
  waits for a leader of the account's own unit (an active 分管领导 or 主要领导 where the account
  holds an active role; never the account itself) — the administrator sees only that, and who.
  With no such leader the reset is refused, saying what to do.
- ``password_handover_collect`` — that leader, signed in, collects the one-time password once
  (it is made at that moment, nobody chooses it) to hand to the account's holder, before the
  limit (``XINFANG_PASSWORD_COLLECT_DAYS``). The account must change it at its next sign-in
  (``User.must_change_password``; ``security.gate`` allows nothing else meanwhile). Without
  this, the administrator who reset a clerk could sign in as the clerk before the clerk did.
- ``first_password_void`` — a first business role granted (``admin_services.membership_grant``)
  to an account whose password is still the one an administrator set (``User.password_by_admin``:
  typed at ``user_create``, or shown at an approved reset) voids it at that moment, and a
  ``PasswordHandover`` (kind 首次任职) waits for a leader of the role's unit, as after a reset.
  With no leader there, the grant still goes through and the account has no usable password
  until a reset gives one (the security administrator's page lists such accounts).
- ``password_reset_by_operator`` — the server's operator (``xinfang password reset``), who holds
  the keys to everything anyway, resets an ordinary account and is shown the one-time password.
  A one-time password is never stored in clear, sent in a message cookie or audited.
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
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import PROFILE_CHANGE, audit_record
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, User
from xinfang.security.auth import locked_message, locked_user, password_check_failed
from xinfang.security.models import PasswordHandover, PasswordResetRequest

from .admin_services import AdminRefused, _audit, _check_password, _require

APPROVER_ROLES = {Role.SYSADMIN, Role.SECADMIN}
# Who collects an ordinary account's one-time password: a leader of its own unit.
COLLECTOR_ROLES = (Role.APPROVER, Role.CHIEF)
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


def _issue(user: User, *, by_admin: bool = False) -> str:
    """Set a one-time password; ``by_admin``: an administrator is shown it."""
    password = password_one_time(user)
    user.set_password(password)
    user.must_change_password = True
    user.password_by_admin = by_admin
    user.save(update_fields=["password", "must_change_password", "password_by_admin"])
    return password


def collect_days() -> int:
    """How many days a reset waits for its leader (``XINFANG_PASSWORD_COLLECT_DAYS``)."""
    return int(getattr(settings, "XINFANG_PASSWORD_COLLECT_DAYS", 7))


def password_collectors(user: User) -> list[Membership]:
    """Who may collect ``user``'s one-time password: an active 分管领导 or 主要领导, of an active
    account other than ``user``, in a unit where ``user`` holds an active role."""
    units = Membership.objects.filter(user=user, is_active=True).values("unit_id")
    return list(
        Membership.objects.filter(unit_id__in=units, role__in=COLLECTOR_ROLES, is_active=True,
                                  user__is_active=True)
        .exclude(user=user).select_related("user", "unit").order_by("pk")
    )


def _names(memberships: list[Membership]) -> str:
    return "、".join(
        f"{m.user.full_name or m.user.username}（{m.unit.name}·{m.get_role_display()}）"
        for m in memberships)


def _when(at) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def _waiting(user: User) -> PasswordHandover | None:
    """The account's one-time password waiting to be collected, locked (lapsed or not)."""
    return (PasswordHandover.objects.select_for_update()
            .filter(user=user, status=PasswordHandover.Status.PENDING).first())


def _lapse(waiting: PasswordHandover) -> None:
    """A hand-over past its collection limit: kept, marked so."""
    waiting.status = PasswordHandover.Status.EXPIRED
    waiting.save(update_fields=["status"])


def _void(user: User, *also: str) -> None:
    """No password signs ``user`` in from now on (its sessions end with it), and none of an
    administrator's is in force; ``also``: other fields set by the caller, saved with it."""
    user.set_unusable_password()
    user.password_by_admin = False
    user.save(update_fields=["password", "password_by_admin", *also])


def _open(user: User, by: Membership, now, kind: str) -> PasswordHandover:
    """A one-time password to be collected by a leader of ``user``'s unit."""
    return PasswordHandover.objects.create(
        user=user, reset_by=by.user, reset_at=now, kind=kind,
        collect_until=now + timedelta(days=collect_days()))


@transaction.atomic
def user_password_reset(*, by: Membership, user: User, ip: str = "") -> PasswordHandover:
    """Reset an ordinary account: its password is void from now on, and the one-time password
    waits for a leader of its unit (``password_handover_collect``)."""
    _require(by, Role.SYSADMIN)
    user = locked_user(User, user.pk)
    if user.pk == by.user_id:
        raise AdminRefused(_("请在“我的账户”中修改自己的密码。"))
    if holds_admin_role(user):
        raise AdminRefused(
            _("%(user)s是管理员，重置其密码须由另一名管理员批准，请提交重置申请。") % {"user": user}
        )
    now = timezone.now()
    waiting = _waiting(user)
    collectors = password_collectors(user)
    if waiting and not waiting.lapsed(now):
        raise AdminRefused(
            _("%(user)s的密码已于%(at)s重置，一次性密码待%(who)s领取（%(until)s前），不能再次重置。")
            % {"user": user, "at": _when(waiting.reset_at), "who": _names(collectors) or "—",
               "until": _when(waiting.collect_until)})
    if not collectors:
        units = Membership.objects.filter(user=user, is_active=True).select_related("unit")
        where = "、".join(sorted({m.unit.name for m in units})) or _("无有效任职")
        raise AdminRefused(
            _("%(user)s所在单位（%(where)s）没有在职的分管领导或主要领导，一次性密码无人可以领取，"
              "未重置。请安全管理员先为该单位授予分管领导或主要领导角色后再重置；或请服务器运维"
              "人员在命令行重置：xinfang password reset %(username)s")
            % {"user": user, "where": where, "username": user.username})
    if waiting:  # lapsed: kept, marked so, and replaced
        _lapse(waiting)
    # The old password is void now (and with it the account's sessions): a reset is asked for
    # because it was forgotten or is known to someone else.
    user.must_change_password = True
    _void(user, "must_change_password")
    handover = _open(user, by, now, PasswordHandover.Kind.RESET)
    _audit(
        PROFILE_CHANGE,
        by,
        "user",
        user.pk,
        ip,
        change="password_reset",
        username=user.username,
        handover=handover.pk,
        collectors=[m.user.username for m in collectors],
        collect_until=handover.collect_until.isoformat(),
    )
    return handover


def first_password_void(*, by: Membership, user: User, membership: Membership,
                        ip: str = "") -> PasswordHandover | str | None:
    """Called by ``membership_grant`` inside its transaction, ``user`` locked there (so a second
    grant at once waits, and reads the password already gone), ``membership`` (a business role)
    just made active. Returns the handover opened, ``"none"`` when nobody can collect it, or
    None when the password in force is not an administrator's (its holder changed it holding a
    role, a leader collected a one-time one, the operator reset it, or it was voided already).
    A password changed while the account held no role counts as the administrator's: who
    signed in to change it is not known (``password_change``)."""
    if not user.password_by_admin:
        return None
    now = timezone.now()
    _void(user)  # its sessions end too: the administrator may have signed in
    collectors = password_collectors(user)
    handover = None
    waiting = _waiting(user)
    if waiting and waiting.lapsed(now):  # kept, marked so (not reachable from the pages)
        _lapse(waiting)
        waiting = None
    if collectors and waiting is None:
        handover = _open(user, by, now, PasswordHandover.Kind.FIRST)
    _audit(
        PROFILE_CHANGE,
        by,
        "user",
        user.pk,
        ip,
        change="first_password_void",
        username=user.username,
        membership=membership.pk,
        unit=membership.unit.name,
        role=membership.role,
        handover=handover.pk if handover else (waiting.pk if waiting else None),
        collectors=[m.user.username for m in collectors],
        collect_until=handover.collect_until.isoformat() if handover else None,
    )
    if handover is not None:
        return handover
    return waiting if waiting is not None else "none"


def accounts_without_password():
    """Active accounts holding an active business role that no password signs in to and no
    one-time password waits for (a first role granted where no leader could collect it, or a
    reset lapsed uncollected): each needs a reset (``user_password_reset``, or the operator's
    ``xinfang password reset``). For the security administrator's page."""
    now = timezone.now()
    waiting = PasswordHandover.objects.filter(
        status=PasswordHandover.Status.PENDING, collect_until__gt=now).values("user_id")
    business = Membership.objects.filter(is_active=True).exclude(role__in=ADMIN_ROLES)
    return (User.objects.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX,
                                pk__in=business.values("user_id"))
            .exclude(pk__in=waiting).order_by("username"))


@transaction.atomic
def password_handover_collect(*, by: Membership, handover: PasswordHandover, ip: str = "") -> str:
    """A leader of the account's unit collects its one-time password (made now, returned once).
    Locks: the account, then the handover — the order of ``user_password_reset`` — so two tabs
    (or two leaders) queue, and the second finds it collected."""
    if by is None or not by.is_active or by.role not in COLLECTOR_ROLES:
        raise AdminRefused(_("只有该账户所在单位的分管领导或主要领导可以领取一次性密码。"))
    user = locked_user(User, handover.user_id)
    handover = PasswordHandover.objects.select_for_update().get(pk=handover.pk)
    now = timezone.now()
    if handover.status == PasswordHandover.Status.COLLECTED:
        raise AdminRefused(
            _("%(user)s的一次性密码已领取（%(at)s，%(who)s），不能再次领取；如未交到本人，请系统"
              "管理员重新重置。") % {"user": user, "at": _when(handover.collected_at),
                                  "who": handover.collected_by})
    if handover.status == PasswordHandover.Status.CANCELLED:
        raise AdminRefused(_("%(user)s的这次重置已作废（其密码已另行重置）。") % {"user": user})
    if handover.status == PasswordHandover.Status.EXPIRED or handover.lapsed(now):
        raise AdminRefused(
            _("%(user)s的一次性密码逾期未领取（领取期限%(until)s），已失效；请系统管理员重新重置。")
            % {"user": user, "until": _when(handover.collect_until)})
    if by.user_id == user.pk:
        raise AdminRefused(_("不能领取自己的一次性密码。"))
    leader = (Membership.objects.select_for_update(no_key=True, of=("self",))
              .select_related("user", "unit").get(pk=by.pk))
    if not leader.is_active or not leader.user.is_active:
        raise AdminRefused(_("您的任职已撤销，不能领取。"))
    if not user.is_active:
        raise AdminRefused(_("%(user)s的账户已停用，不能领取其一次性密码。") % {"user": user})
    if leader.pk not in {m.pk for m in password_collectors(user)}:
        raise AdminRefused(
            _("您不是%(user)s所在单位的分管领导或主要领导（或其任职已撤销），不能领取其一次性密码。")
            % {"user": user})
    password = _issue(user)
    handover.status = PasswordHandover.Status.COLLECTED
    handover.collected_by, handover.collected_at = leader.user, now
    handover.save(update_fields=["status", "collected_by", "collected_at"])
    _audit(
        PROFILE_CHANGE,
        leader,
        "user",
        user.pk,
        ip,
        change="password_collect",
        username=user.username,
        handover=handover.pk,
        reset_by=handover.reset_by.username,
        unit=leader.unit.name,
    )
    return password


@transaction.atomic
def password_reset_by_operator(*, user: User, actor_name: str) -> str:
    """The command line's reset of an ordinary account: the one-time password is returned to
    the server's operator (who holds the keys anyway); a reset waiting for a leader is void."""
    user = locked_user(User, user.pk)
    if holds_admin_role(user):
        raise AdminRefused(
            _("%(user)s是管理员，重置其密码须由另一名管理员批准（“重置审批”页面）。")
            % {"user": user})
    waiting = PasswordHandover.objects.select_for_update().filter(
        user=user, status=PasswordHandover.Status.PENDING)
    cancelled = list(waiting.values_list("pk", flat=True))
    waiting.update(status=PasswordHandover.Status.CANCELLED)
    password = _issue(user)
    audit_record(
        action=PROFILE_CHANGE, actor=None, actor_name=actor_name, object_type="user",
        object_id=user.pk,
        detail={"change": "password_reset", "username": user.username, "one_time": True,
                "by_role": "cli", "cancelled_handovers": cancelled},
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
    password = _issue(user, by_admin=True)  # shown to the approving administrator
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
        # The row held from here, as ``membership_grant`` holds it: a first role granted since
        # the current password was checked voided it, and this change is not made over it.
        row = locked_user(User, user.pk, "password", "password_by_admin")
        if row.password != user.password:
            raise AdminRefused(_("您的密码刚被重置或已作废，请重新登录。"), field="old_password")
        user.set_password(new)
        user.must_change_password = False
        # An account with no role yet may be signed in to by the administrator who typed its
        # first password as well as by its holder: a password changed then is voided by the
        # first business role all the same (``first_password_void``).
        user.password_by_admin = row.password_by_admin and not Membership.objects.filter(
            user=user, is_active=True).exists()
        user.save(update_fields=["password", "must_change_password", "password_by_admin"])
        audit_record(
            action=PROFILE_CHANGE,
            actor=user,
            object_type="user",
            object_id=user.pk,
            ip=ip,
            detail={"change": "password_change"},
        )
    return user
