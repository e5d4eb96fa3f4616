"""Who is acting: the membership chosen for this session, and the doors every page goes through.

A user may hold several memberships (a clerk who is also an inspector); each request acts as one
of them. The choice lives in the session under ``membership_id``; without one, the first active
membership is taken. Nothing here is middleware: views ask for the membership explicitly.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinfang.cases.selectors import door_remember
from xinfang.org.choices import ADMIN_ROLES, Role
from xinfang.org.models import Membership, Unit

from .header import NO_HEADER, header_for

SESSION_KEY = "membership_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
OFFICE_ROLES = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
# The supervision page (督): leaders and inspectors.
SUPERVISION_ROLES = {Role.APPROVER, Role.CHIEF, Role.INSPECTOR}
# Who keeps the three registers (排查、积案、干部队伍) of the office; inspectors only read them.
REGISTER_KEEPERS = {Role.CLERK, Role.APPROVER, Role.CHIEF}
HANDLER_ROLES = {Role.UNIT_HANDLER, Role.PROXY_AGENT, Role.LINE_HEAD, Role.DISCIPLINE}


def memberships_of(request: HttpRequest) -> list[Membership]:
    if not request.user.is_authenticated:
        return []
    cached = getattr(request, "_web_memberships", None)
    if cached is None:
        cached = request.user.memberships_active()
        request._web_memberships = cached
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership this request acts as, or None for a user without an active one."""
    memberships = memberships_of(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for m in memberships:
        if m.pk == chosen:
            return m
    # The role this session chose was withdrawn since (or is a first request's none): the
    # user's first role from now on — but a form sent in the withdrawn one is not carried out
    # in this one (``_lapsed``).
    request._membership_lapsed = chosen is not None
    request.session[SESSION_KEY] = memberships[0].pk
    return memberships[0]


def choose_membership(request: HttpRequest, membership_id: int) -> Membership | None:
    for m in memberships_of(request):
        if m.pk == membership_id:
            request.session[SESSION_KEY] = m.pk
            return m
    return None


def jurisdiction_of(m: Membership) -> Unit | None:
    """The jurisdiction a membership works in: its own unit when that runs a petition office
    under a profile, else the nearest such unit above it."""
    return m.unit if m.unit.profile_code else m.unit.jurisdiction()


# (URL name, label, the view names that count as "this section" for aria-current)
NavItem = tuple[str, str, tuple[str, ...]]
LEDGER_VIEWS = ("web:ledger", "web:screening", "web:backlog", "web:roster", "web:handover")
RULES_VIEWS = ("web:rules_profiles", "web:rules_calendar")
PROFILE_VIEWS = ("web:rules_profiles", "web:rules_versions", "web:rules_version",
                 "web:rules_migrate")  # fmt: skip


IMPORT_VIEWS = ("imports:ledger_upload", "imports:ledger_preview")
PRACTICE_ROLES = {Role.CLERK, Role.APPROVER, Role.CHIEF, Role.INSPECTOR, Role.UNIT_HANDLER,
                  Role.PROXY_AGENT, Role.LINE_HEAD}
PRACTICE_VIEWS = tuple(f"practices:{n}" for n in (
    "index", "return_visits", "meetings", "watch", "watch_entry", "duty", "persuades", "persuade",
    "campaigns", "campaign"))


OVERSIGHT_VIEWS = tuple(f"oversight:{n}" for n in (
    "index", "order_new", "order", "bulletin_new", "bulletin", "review", "rectification",
    "verify", "proxy"))


def nav_for_role(role: str) -> list[NavItem]:
    """The header navigation of a membership in ``role``: only the pages it may open. (The
    role alone decides it: ``header`` keeps the written navigation under the role.)"""
    if role == Role.SYSADMIN:
        return [
            ("web:admin_units", _("单位"), ("web:admin_units", "web:admin_unit")),
            ("web:admin_users", _("用户账户"), ("web:admin_users", "web:admin_user")),
            ("web:admin_password_resets", _("重置审批"), ("web:admin_password_resets",)),
            ("web:rules_profiles", _("规则配置"), PROFILE_VIEWS),
            ("web:rules_calendar", _("节假日安排"), ("web:rules_calendar",)),
            ("documents:templates", _("文书模板"), ("documents:templates",)),
            ("notify:channels", _("消息推送"), ("notify:channels", "notify:channel")),
            ("integrations:tokens", _("接口令牌"), ("integrations:tokens",)),
        ]
    if role == Role.SECADMIN:
        return [
            ("web:admin_roles", _("角色与锁定"), ("web:admin_roles", "web:admin_roles_user")),
            ("web:admin_keys", _("密钥状态"), ("web:admin_keys",)),
            ("web:admin_password_resets", _("重置审批"), ("web:admin_password_resets",)),
            ("notify:dead_letters", _("推送失败"), ("notify:dead_letters",)),
            ("integrations:tokens", _("接口令牌"), ("integrations:tokens",)),
        ]
    if role == Role.AUDITOR:
        return [("web:audit_log", _("审计日志"), ("web:audit_log",))]
    items: list[NavItem] = [("web:home", _("工作台"), ("web:home",))]
    if role == Role.CLERK:
        items.append(("web:register", _("登记"), ("web:register",)))
        items.append(("imports:ledger_upload", _("导入台账"), IMPORT_VIEWS))
    items.append(("web:ledger", _("台账"), LEDGER_VIEWS))
    if role in SUPERVISION_ROLES:
        items.append(("web:supervision", _("督查督办"), ("web:supervision",)))
    items.append(("oversight:index", _("督办·审核·代办"), OVERSIGHT_VIEWS))  # issue 17
    items.append(("reports:index", _("统计报表"), ("reports:index",)))
    if role in PRACTICE_ROLES:  # xinfang.practices: return visits, duty, watch list, meetings…
        items.append(("practices:index", _("工作机制"), PRACTICE_VIEWS))
    if role in OFFICE_ROLES:
        items.append(("scoring:index", _("考核评分"), ("scoring:index", "scoring:cases")))
    if role in OFFICE_ROLES:
        items.append(("web:rules_profiles", _("规则与日历"), RULES_VIEWS))
    items.append(("web:recusals", _("回避"), ("web:recusals",)))
    if role in (Role.APPROVER, Role.CHIEF):  # one-time passwords of the unit's accounts
        items.append(("web:password_handovers", _("密码转交"),
                      ("web:password_handovers", "web:password_handover_collect")))
    items.append(("jobs:list", _("后台任务"), ("jobs:list", "jobs:detail")))
    # The integration tokens authorised for this account, collected here by it alone (三员分立).
    items.append(("integrations:mine", _("我的令牌"),
                  ("integrations:mine", "integrations:collect")))
    return items


def page(
    request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200
) -> HttpResponse:
    """Render a page with the header's membership switcher and navigation (``header``: the
    fragments are written once per distinct content, not per page)."""
    m = current_membership(request)
    here = request.resolver_match.view_name if request.resolver_match else ""
    full = {
        "membership": m,
        # Worked out before the page's own context, so a page's "memberships" (the roles page
        # lists another account's) can never become the header's switcher.
        "header": header_for(memberships_of(request), m, here) if request.user.is_authenticated
        else NO_HEADER,
        **(context or {}),
    }
    return render(request, template, full, status=status)


def pager_query(request: HttpRequest) -> str:
    """The page's query without its page number, encoded: what its pager's links carry
    (``partials/pager.html``'s ``extra``), so the next page is of the same list. Written by
    hand, a page's links dropped a filter (the backlog's 未化解, the locked accounts) or broke
    on a search's ``&``, ``#`` or ``+``, and page two showed another list under the same
    heading."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def refuse(request: HttpRequest, message: str, *, status: int = 403) -> HttpResponse:
    """The page that says, in Chinese, why this membership may not be here."""
    return page(request, "web/refused.html", {"message": message}, status=status)


_refuse = refuse


def _lapsed(request: HttpRequest, m: Membership) -> HttpResponse | None:
    """A write sent in a role withdrawn since its page was shown is refused, not carried out in
    the role the session falls back to (a clerk who is also a township's handler would act as
    the handler); the next page is the new role's."""
    if getattr(request, "_membership_lapsed", False) and request.method not in SAFE_METHODS:
        return _refuse(request, _("您提交时所用的角色已被撤销，本次提交未办理；现以“%(m)s”的"
                                  "身份工作，请核对后重新操作。") % {"m": m}, status=409)
    return None


def membership_required(view):
    """Signed in, acting as an active membership, and not one of the three administrators
    (三员分立: administrators never see a case)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("web:login"))
        m = current_membership(request)
        if m is None:
            return _refuse(request, _("您没有有效的任职，不能办理信访件。请联系系统管理员。"))
        if m.role in ADMIN_ROLES:
            return _refuse(request, _("管理员（系统、安全、审计）不能查看或办理信访件。"))
        if lapsed := _lapsed(request, m):
            return lapsed
        request.membership = m
        door_remember(m)  # the unit tree, respondent units and recusals: read once per request
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles: str):
    """Signed in and acting in one of ``roles`` (used for the administrators' own pages)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("web:login"))
            m = current_membership(request)
            if m is None or m.role not in roles:
                return _refuse(request, _("您当前的角色不能访问此页面。"))
            if lapsed := _lapsed(request, m):
                return lapsed
            request.membership = m
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
