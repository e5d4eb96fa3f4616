"""Writes to units, user accounts and role assignments (三员分立), each with its audit entry.

No org service exists yet, so the administrators' pages write through these. Every function is
keyword-only, takes the acting membership as ``by``, checks that ``by`` holds the administrator
role the change belongs to (system administrator: units and accounts; security administrator:
role assignments), runs in one transaction and appends one audit entry per change:

- ``permission_change`` — anything that changes who may see or do what: a unit created, renamed,
  deactivated or reactivated (the unit tree is the scope of every membership), an account
  created, deactivated or reactivated, a role granted or withdrawn;
- ``profile_change`` — a jurisdiction's rule profile set or changed; a password reset by the
  administrator (``web.password_services``; the security module files credential changes such
  as TOTP under it too).

Nothing is deleted: a unit, an account or a membership is deactivated, never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import PERMISSION_CHANGE, PROFILE_CHANGE, audit_record
from xinfang.cases.choices import OPEN_STATES, AssignmentRole, AssignmentStatus
from xinfang.cases.models import Assignment, Case
from xinfang.integrations.models import ApiToken
from xinfang.integrations.services import token_revoke
from xinfang.org.choices import ADMIN_ROLES, LEVEL_ORDER, Level, Role, UnitKind
from xinfang.org.models import (
    Membership,
    Unit,
    UnitName,
    User,
    children_locked,
    units_held_active,
)
from xinfang.oversight.models import SupervisionOrder
from xinfang.registers.models import BacklogCase
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import SHIPPED_CODES
from xinfang.security.auth import locked_user


class AdminRefused(Exception):
    """A change the rules do not allow; ``message`` says why in Chinese, ``field`` names the
    input at fault where there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def profile_codes() -> list[str]:
    """The profiles a jurisdiction may run under: the shipped ones and any stored version."""
    stored = ProfileVersion.objects.values_list("code", flat=True).distinct()
    return sorted(set(SHIPPED_CODES) | set(stored))


def _require(by: Membership, role: str) -> None:
    if by is None or not by.is_active or by.role != role:
        raise AdminRefused(_("只有%(role)s可以办理此项。") % {"role": Role(role).label})


def _audit(action: str, by: Membership, obj_type: str, obj_id, ip: str, **detail) -> None:
    detail.setdefault("by_role", by.role)
    audit_record(
        action=action, actor=by, object_type=obj_type, object_id=obj_id, ip=ip, detail=detail
    )


# -- units (system administrator) ----------------------------------------------------------------


def _check_unit_fields(*, name: str, short_name: str, profile_code: str) -> None:
    if not name.strip():
        raise AdminRefused(_("请填写单位名称。"), field="name")
    if profile_code:
        if profile_code not in profile_codes():
            raise AdminRefused(
                _("没有规则配置“%(code)s”。") % {"code": profile_code}, field="profile_code"
            )
        if not short_name.strip():
            # The short name prefixes every case number the jurisdiction issues.
            raise AdminRefused(
                _("设有规则配置的受理机关须填写简称（案件编号前缀）。"), field="short_name"
            )


@transaction.atomic
def unit_create(
    *,
    by: Membership,
    name: str,
    level: str,
    kind: str,
    parent: Unit | None,
    short_name: str = "",
    profile_code: str = "",
    phone: str = "",
    ip: str = "",
) -> Unit:
    _require(by, Role.SYSADMIN)
    name, short_name = name.strip(), short_name.strip()
    if level not in Level.values:
        raise AdminRefused(_("请选择层级。"), field="level")
    if kind not in UnitKind.values:
        raise AdminRefused(_("请选择类型。"), field="kind")
    _check_unit_fields(name=name, short_name=short_name, profile_code=profile_code)
    if parent is not None:
        if not parent.is_active:
            raise AdminRefused(
                _("上级单位“%(parent)s”已停用。") % {"parent": parent}, field="parent"
            )
        if LEVEL_ORDER.index(Level(level)) < parent.level_rank():
            raise AdminRefused(
                _("%(level)s级单位不能设在%(parent)s级单位之下。")
                % {"level": Level(level).label, "parent": parent.get_level_display()},
                field="level",
            )
    children_locked(parent)
    if Unit.objects.filter(parent=parent, name=name).exists():
        raise AdminRefused(
            _("“%(parent)s”下已有名为“%(name)s”的单位。")
            % {"parent": parent or _("顶层"), "name": name},
            field="name",
        )
    unit = Unit.objects.create(
        name=name,
        short_name=short_name,
        level=level,
        kind=kind,
        parent=parent,
        profile_code=profile_code,
        phone=phone.strip(),
    )
    UnitName.objects.create(unit=unit, name=name, valid_from=None)
    _audit(
        PERMISSION_CHANGE,
        by,
        "unit",
        unit.pk,
        ip,
        change="unit_create",
        name=name,
        parent=parent.name if parent else None,
        level=level,
        kind=kind,
    )
    if profile_code:
        _audit(
            PROFILE_CHANGE,
            by,
            "unit",
            unit.pk,
            ip,
            change="profile_set",
            unit=name,
            old=None,
            new=profile_code,
        )
    return unit


@transaction.atomic
def unit_update(
    *,
    by: Membership,
    unit: Unit,
    name: str,
    short_name: str,
    profile_code: str,
    phone: str = "",
    effective: date | None = None,
    ip: str = "",
) -> Unit:
    """Rename a unit and set its short name, phone and (for a jurisdiction) rule profile. Level,
    kind and parent stay as created: they decide which office's cases a member sees.

    A rename is kept in the unit's name history (``UnitName``) from ``effective`` (today if not
    given: the day the new name took effect, 撤乡设街 by a decision of some days ago), so the
    tables of a period before it keep the old name (``names_then``)."""
    _require(by, Role.SYSADMIN)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    name, short_name = name.strip(), short_name.strip()
    _check_unit_fields(name=name, short_name=short_name, profile_code=profile_code)
    if name != unit.name:
        effective = _rename_effective(unit, effective)
        children_locked(unit.parent)
    if name != unit.name and Unit.objects.filter(parent_id=unit.parent_id, name=name).exists():
        raise AdminRefused(_("同一上级下已有名为“%(name)s”的单位。") % {"name": name}, field="name")
    if unit.profile_code and not profile_code and unit.cases.exists():
        raise AdminRefused(
            _("%(unit)s已有受理的信访件，不能取消其规则配置（可改为其他配置）。") % {"unit": unit},
            field="profile_code",
        )
    old = {"name": unit.name, "short_name": unit.short_name, "phone": unit.phone}
    new = {"name": name, "short_name": short_name, "phone": phone.strip()}
    old_profile = unit.profile_code
    for key, value in new.items():
        setattr(unit, key, value)
    unit.profile_code = profile_code
    unit.save()
    changed = {k: [old[k], new[k]] for k in new if old[k] != new[k]}
    if "name" in changed:
        # The name it had until now, kept first where the unit came without a history (made by
        # the tree's import or before the history was kept), then the new one from its day.
        UnitName.objects.get_or_create(unit=unit, valid_from=None, defaults={"name": old["name"]})
        UnitName.objects.create(unit=unit, name=name, valid_from=effective)
        changed["effective"] = effective.isoformat()
    if changed:
        _audit(PERMISSION_CHANGE, by, "unit", unit.pk, ip, change="unit_update", **changed)
    if old_profile != profile_code:
        # Cases already accepted keep the profile version they were accepted under; only cases
        # registered from now on follow the new profile.
        _audit(
            PROFILE_CHANGE,
            by,
            "unit",
            unit.pk,
            ip,
            change="profile_set",
            unit=unit.name,
            old=old_profile or None,
            new=profile_code or None,
        )
    return unit


def _rename_effective(unit: Unit, effective: date | None) -> date:
    """The day a rename takes effect: not after today (the unit bears the new name from now
    on), and not before the unit's last recorded rename (the names follow each other)."""
    today = timezone.localdate()
    effective = effective or today
    if effective > today:
        raise AdminRefused(_("更名生效日期%(day)s晚于今天。") % {"day": effective.isoformat()},
                           field="effective")
    last = (UnitName.objects.filter(unit=unit).exclude(valid_from=None)
            .order_by("-valid_from", "-pk").first())
    if last is not None and effective < last.valid_from:
        raise AdminRefused(
            _("更名生效日期%(day)s早于上次更名（%(since)s起称“%(name)s”）。")
            % {"day": effective.isoformat(), "since": last.valid_from.isoformat(),
               "name": last.name}, field="effective")
    return effective


@transaction.atomic
def unit_set_active(*, by: Membership, unit: Unit, active: bool, ip: str = "") -> Unit:
    _require(by, Role.SYSADMIN)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.is_active == active:
        return unit
    if not active:
        if unit.children.filter(is_active=True).exists():
            raise AdminRefused(_("%(unit)s下还有启用的单位，请先停用下级单位。") % {"unit": unit})
        if unit.memberships.filter(is_active=True).exists():
            raise AdminRefused(
                _("%(unit)s还有有效的任职，请安全管理员先撤销这些任职。") % {"unit": unit}
            )
        if held := unit_open_work(unit):
            raise AdminRefused(
                _("%(unit)s不能停用：%(what)s。") % {"unit": unit.name, "what": "；".join(held)}
            )
    elif unit.parent is not None and not unit.parent.is_active:
        raise AdminRefused(
            _("上级单位“%(parent)s”已停用，请先启用上级单位。") % {"parent": unit.parent}
        )
    unit.is_active = active
    unit.save(update_fields=["is_active"])
    _audit(
        PERMISSION_CHANGE,
        by,
        "unit",
        unit.pk,
        ip,
        change="unit_activate" if active else "unit_deactivate",
        unit=unit.name,
    )
    return unit


def units_off_holding_work() -> list[Unit]:
    """The units switched off while work still waits on them (``unit_open_work``): switched
    off before ``unit_set_active`` asked, or by hand. ``doctor`` names them."""
    return list(Unit.objects.filter(_holding_work(), is_active=False).order_by("path"))


def _holding_work() -> Q:
    """The units ``unit_open_work`` would find something for, as one condition."""
    open_cases = Case.objects.filter(state__in=OPEN_STATES)
    return (Q(pk__in=open_cases.values("jurisdiction"))
            | Q(pk__in=Assignment.objects.filter(status=AssignmentStatus.ACTIVE,
                                                 case__state__in=OPEN_STATES).values("unit"))
            | Q(pk__in=SupervisionOrder.objects.filter(answered_at=None).values("unit"))
            | Q(pk__in=BacklogCase.objects.filter(resolved_at=None)
                .values("responsible_unit")))


def unit_open_work(unit: Unit, *, to_finish: bool = True) -> list[str]:
    """What still waits on ``unit``, each said to the system administrator who would switch
    it off (none: nothing): the open cases it is the petition office of, the open cases it
    handles as lead or assisting unit, the supervision orders it has not answered, the backlog
    cases (积案) in its care not resolved. Switched off with any of them, the cases' clocks
    would run on and raise their alerts to a unit nobody works in, and its work queue would be
    no one's. The administrator does not read cases (三员分立):
    counts and the offices that hold them, and where those offices find them. ``to_finish``:
    said to one who would switch the unit off (the cases are finished first)."""
    parts = []
    opened = unit.cases.filter(state__in=OPEN_STATES).count()
    if opened:
        parts.append(_("是%(n)d件未办结信访件的受理机关") % {"n": opened})
    handling = (Assignment.objects.filter(unit=unit, status=AssignmentStatus.ACTIVE,
                                          case__state__in=OPEN_STATES))
    by_role = dict(handling.values_list("role").annotate(n=Count("case", distinct=True))
                   .order_by())
    if by_role:
        offices = "、".join(Unit.objects.filter(
            pk__in=handling.values("case__jurisdiction")).order_by("path")
            .values_list("name", flat=True))
        where = (_("须先办结，或由受理机关在") if to_finish else _("或在"))
        parts.append(
            _("承办%(offices)s未办结的信访件%(n)d件（主办%(lead)d件、协办%(assist)d件），"
              "受理机关可在信访台账中按承办单位“%(unit)s”查看，%(where)s“工作移交”页面"
              "（台账 › 工作移交，或 xinfang handover 命令）改派给其他单位")
            % {"offices": offices, "n": handling.values("case").distinct().count(),
               "lead": by_role.get(AssignmentRole.LEAD, 0),
               "assist": by_role.get(AssignmentRole.ASSIST, 0), "unit": unit.name,
               "where": where})
    orders = SupervisionOrder.objects.filter(unit=unit, answered_at=None).count()
    if orders:
        parts.append(_("有%(n)d份督办单尚未答复") % {"n": orders})
    backlog = BacklogCase.objects.filter(responsible_unit=unit, resolved_at=None).count()
    if backlog:
        parts.append(_("是%(n)d件未化解积案的责任单位，受理机关可在积案台账中查看")
                     % {"n": backlog})
    return parts


# -- accounts (system administrator) -------------------------------------------------------------


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise AdminRefused("".join(_password_problems(e)), field="password") from e


def _password_problems(error: ValidationError) -> list[str]:
    """The validators' messages in Chinese. Django 5.2's zh_Hans catalogue misses the new wording
    of the minimum-length message (it would read in English), so that one is said here."""
    problems = []
    for item in error.error_list:
        if item.code == "password_too_short":
            problems.append(
                _("密码太短，至少需要 %(min_length)d 个字符。") % (item.params or {"min_length": 0})
            )
        else:
            problems.extend(item.messages)
    return problems


@transaction.atomic
def user_create(
    *,
    by: Membership,
    username: str,
    full_name: str,
    password: str,
    phone: str = "",
    position: str = "",
    ip: str = "",
) -> User:
    """An account without any role: the security administrator grants roles separately. The
    initial password is the administrator's choice, so it must be changed at first sign-in,
    and it stops working when a first business role is granted before then
    (``membership_grant``): a leader of the role's unit collects a one-time password instead."""
    _require(by, Role.SYSADMIN)
    # NFKC, as Django's own account forms: a name typed in an input method's full-width mode
    # ("ｗａｎｇｗｕ") is the half-width name, not a second account that reads the same.
    username = User.normalize_username(username).strip()
    if not username:
        raise AdminRefused(_("请填写用户名。"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise AdminRefused(_("用户名“%(name)s”已被使用。") % {"name": username}, field="username")
    user = User(
        username=username,
        full_name=full_name.strip(),
        phone=phone.strip(),
        position=position.strip(),
        must_change_password=True,
        password_by_admin=True,
    )
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as e:  # the same name, created a moment ago by someone else
        raise AdminRefused(
            _("用户名“%(name)s”已被使用。") % {"name": username}, field="username"
        ) from e
    _audit(PERMISSION_CHANGE, by, "user", user.pk, ip, change="user_create", username=username)
    return user


@transaction.atomic
def user_set_active(*, by: Membership, user: User, active: bool, ip: str = "") -> User:
    _require(by, Role.SYSADMIN)
    if user.pk == by.user_id and not active:
        raise AdminRefused(_("不能停用自己的账户。"))
    if user.is_active == active:
        return user
    if not active:
        held = Membership.objects.filter(user=user, is_active=True, role__in=KEPT_ROLES)
        for role in sorted(set(held.values_list("role", flat=True))):
            _last_holder_kept(role, losing=Q(user=user), who=user)
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    # An inactive account's sessions end at its next request (the auth backend refuses it).
    _audit(
        PERMISSION_CHANGE,
        by,
        "user",
        user.pk,
        ip,
        change="user_activate" if active else "user_deactivate",
        username=user.username,
    )
    if not active:
        # Its tokens end for good, as with a role withdrawn: switched on again, the account does
        # not bring back a token handed out before, nor one still waiting to be collected. A
        # token being authorised, made or collected at this moment holds the account's row
        # (``integrations.services._locked_role``): the update above waited for it.
        tokens = ApiToken.objects.filter(membership__user=user, revoked_at=None)
        for token in tokens.order_by("pk"):
            token_revoke(by=by, token=token, ip=ip)
    return user


# -- the last administrators ---------------------------------------------------------------------

# The roles 三员分立 cannot run without, should they be lost: accounts are made and switched on
# by a system administrator, roles granted by a security administrator, and the trail is read
# and verified only by an auditor — with none, the other two work unwatched. With no active
# account holding one of them, nobody can put it back from the pages (only the first
# administrator's shell, docs/operations.md).
KEPT_ROLES = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR)


def _last_holder_kept(role: str, *, losing: Q, who) -> None:
    """Refuse a change that leaves no active account holding ``role`` (``losing``: the
    memberships the change takes away). The role's active memberships are locked first, in id
    order, and counted after: two administrators each removing the other at once (two revokes,
    two deactivations) queue here, and the second counts what the first left."""
    held = list(Membership.objects.select_for_update(no_key=True)
                .filter(role=role, is_active=True).order_by("pk").values_list("pk", flat=True))
    kept = Membership.objects.filter(pk__in=held, user__is_active=True).exclude(losing)
    if not kept.exists():
        raise AdminRefused(
            _("%(who)s是最后一名有效的%(role)s，不能撤销或停用；请先为另一账户授予该角色。")
            % {"who": who, "role": Role(role).label}
        )


# -- role assignments (security administrator) ---------------------------------------------------


def _separation_problem(user: User, role: str, *, unit: Unit) -> str | None:
    """三员分立: an administrator role is held alone — never beside another administrator role
    or a business role."""
    others = Membership.objects.filter(user=user, is_active=True).exclude(unit=unit, role=role)
    held = set(others.values_list("role", flat=True))
    if role in ADMIN_ROLES and held:
        names = "、".join(sorted(str(Role(r).label) for r in held))
        return _("%(user)s已担任%(held)s；%(role)s须单独任职（三员分立）。") % {
            "user": user,
            "held": names,
            "role": Role(role).label,
        }
    admin_held = held & ADMIN_ROLES
    if role not in ADMIN_ROLES and admin_held:
        names = "、".join(sorted(str(Role(r).label) for r in admin_held))
        return _("%(user)s是%(held)s，不能同时担任业务角色（三员分立）。") % {
            "user": user,
            "held": names,
        }
    return None


@transaction.atomic
def membership_grant(
    *, by: Membership, user: User, unit: Unit, role: str, ip: str = ""
) -> Membership:
    """Grant ``role`` in ``unit``. A business role granted to an account whose password is
    still the one an administrator set voids that password (三员分立): the membership returned
    carries ``first_password`` — the ``PasswordHandover`` opened for the unit's leaders,
    ``"none"`` when the unit has none to collect it (the account has no usable password until
    a reset), or None when no password was touched."""
    _require(by, Role.SECADMIN)
    if role not in Role.values:
        raise AdminRefused(_("请选择角色。"), field="role")
    if user.pk == by.user_id:
        raise AdminRefused(_("不能为自己分配角色。"), field="user")
    # 三员分立 reads the account's other roles: two grants to one account at once would each
    # find none (an admin role and a business role both granted). The account's row is held
    # until commit, so the second grant reads the first's role — and whether the account was
    # switched off meanwhile (``user_set_active`` writes that row).
    held = locked_user(User, user.pk)
    if not held.is_active:
        raise AdminRefused(_("%(user)s的账户已停用。") % {"user": user}, field="user")
    if unit.pk not in units_held_active([unit.pk]):
        raise AdminRefused(_("%(unit)s已停用。") % {"unit": unit}, field="unit")
    problem = _separation_problem(user, role, unit=unit)
    if problem:
        raise AdminRefused(problem, field="role")
    membership = (
        Membership.objects.select_for_update().filter(user=user, unit=unit, role=role).first()
    )
    if membership is not None and membership.is_active:
        raise AdminRefused(
            _("%(user)s已在%(unit)s担任%(role)s。")
            % {"user": user, "unit": unit, "role": Role(role).label},
            field="role",
        )
    if membership is None:
        membership = Membership.objects.create(user=user, unit=unit, role=role)
    else:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    _audit(
        PERMISSION_CHANGE,
        by,
        "membership",
        membership.pk,
        ip,
        change="role_grant",
        username=user.username,
        unit=unit.name,
        role=role,
    )
    membership.first_password = None
    if role not in ADMIN_ROLES:
        from .password_services import first_password_void  # it imports this module

        membership.first_password = first_password_void(by=by, user=held,
                                                        membership=membership, ip=ip)
    return membership


@dataclass(frozen=True)
class Revoked:
    """A revocation done: the membership, and what its unit now holds with nobody to do it
    (``unit_open_work``'s words; empty: someone is left, or nothing waits)."""

    membership: Membership
    unattended: tuple[str, ...] = ()


def unit_attended(unit: Unit) -> bool:
    """Whether anybody still works in ``unit``: an active role held by an active account."""
    return Membership.objects.filter(unit=unit, is_active=True, user__is_active=True).exists()


def units_unattended() -> list[Unit]:
    """The active units with open work (``unit_open_work``) and no active role of an active
    account: their cases stall unseen, their alerts reach nobody. ``doctor`` names them."""
    attended = Membership.objects.filter(is_active=True, user__is_active=True).values("unit")
    return list(Unit.objects.filter(_holding_work(), is_active=True).exclude(pk__in=attended)
                .order_by("path"))


def _unattended_notice(unit: Unit, what: list[str], at) -> None:
    """Tell the petition office over ``unit`` (its own office's superior where the unit is the
    office itself, now with nobody in it) that work waits on a unit nobody works in: the office
    assigns the cases, and asks a role granted or the work handed to another unit."""
    from xinfang.notify.models import Kind, Notice

    office = unit.jurisdiction()
    if office is not None and office.pk == unit.pk:
        office = unit.parent.jurisdiction() if unit.parent_id else None
    if office is None:
        return
    Notice.objects.create(
        kind=Kind.UNATTENDED, unit=office, role=Role.CLERK, needs_reason=True, created_at=at,
        text=(_("%(unit)s已无有效任职人员：%(what)s。") % {"unit": unit.name,
                                                         "what": "；".join(what)})[:300],
        todo=_("请联系安全管理员为该单位授予角色，或在“工作移交”页面将其信访件改派给其他单位"),
        link=f"{reverse('web:ledger')}?unit={unit.pk}",
    )


@transaction.atomic
def membership_revoke(*, by: Membership, membership: Membership, ip: str = "") -> Revoked:
    """Withdraw a role at once, whatever waits on it (a compromised account is not kept for
    its work). Where it leaves its unit with open work and nobody in it, the result says what
    now has nobody, the audit entry records it, and the unit's petition office is told."""
    _require(by, Role.SECADMIN)
    if membership.role in KEPT_ROLES:  # locked before the membership itself: one order for all
        _last_holder_kept(membership.role, losing=Q(pk=membership.pk), who=membership.user)
    # The joined user and unit are locked too: FOR NO KEY UPDATE, so that a parallel audit
    # entry naming the user does not wait on it (``security.auth.locked_user``).
    membership = (
        Membership.objects.select_for_update(no_key=True).select_related("user", "unit")
        .get(pk=membership.pk)
    )
    if membership.user_id == by.user_id:
        raise AdminRefused(_("不能撤销自己的角色。"))
    if not membership.is_active:
        return Revoked(membership)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    unit = membership.unit
    unattended = [] if unit_attended(unit) else unit_open_work(unit, to_finish=False)
    _audit(
        PERMISSION_CHANGE,
        by,
        "membership",
        membership.pk,
        ip,
        change="role_revoke",
        username=membership.user.username,
        unit=unit.name,
        role=membership.role,
        **({"unattended": unattended} if unattended else {}),
    )
    if unattended:
        _unattended_notice(unit, unattended, timezone.now())
    # A token acts as this role (``integrations``) and ends with it, for good: the same role
    # granted again later switches this row on again, and must not bring back a token handed
    # out before (which may have leaked since). Each is revoked and audited as on its page.
    for token in membership.api_tokens.filter(revoked_at=None).order_by("pk"):
        token_revoke(by=by, token=token, ip=ip)
    return Revoked(membership, tuple(unattended))
