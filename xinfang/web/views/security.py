"""The security administrator's pages (三员分立): role assignments, lockouts and the key ring's
status. Writes go through ``web.admin_services`` and ``security.auth.account_unlock``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.security.auth import account_unlock, client_ip
from xinfang.security.totp import totp_disable

from ..admin_services import AdminRefused, membership_grant, membership_revoke
from ..context import page, pager_query, role_required
from ..forms.admin import GrantForm
from ..password_services import accounts_without_password
from .admin import paged, refused_into, users_matching

# -- roles, lockouts and keys (security administrator) -------------------------------------------

NO_PASSWORD_SHOWN = 50


@require_GET
@role_required(Role.SECADMIN)
def admin_roles(request: HttpRequest) -> HttpResponse:
    qs, q = users_matching(request)
    if request.GET.get("locked") == "1":
        qs = qs.filter(locked_until__gt=timezone.now())
    return page(
        request,
        "web/admin_roles.html",
        {
            "page_obj": paged(request, qs),
            "q": q,
            "locked_only": request.GET.get("locked") == "1",
            "extra": pager_query(request),
            "now": timezone.now(),
            "no_password": _without_password(),
        },
    )


def _without_password() -> list[tuple[User, list[Membership]]]:
    """The accounts with a business role and no usable password, each with its roles."""
    users = list(accounts_without_password()[:NO_PASSWORD_SHOWN])
    held: dict[int, list[Membership]] = {u.pk: [] for u in users}
    for m in (Membership.objects.filter(user_id__in=held, is_active=True)
              .select_related("unit").order_by("pk")):
        held[m.user_id].append(m)
    return [(u, held[u.pk]) for u in users]


def _first_password_told(user: User, first_password) -> str:
    """What a first business role did to the password the system administrator set."""
    if first_password is None:
        return ""
    if first_password == "none":
        return _("系统管理员设定的初始密码已作废。该单位没有在职的分管领导或主要领导领取"
                 "一次性密码，%(name)s暂无可用密码：待该单位授予分管领导或主要领导后由系统管理员重置密码，"
                 "或请服务器运维人员在命令行重置：xinfang password reset %(username)s") % {
            "name": user, "username": user.username}
    names = "、".join(f"{m.user.full_name or m.user.username}（{m.get_role_display()}）"
                      for m in first_password.collectors())
    return _("系统管理员设定的初始密码已作废；一次性密码待%(who)s在“密码转交”页面领取"
             "（%(until)s前），当面交给本人。") % {
        "who": names, "until": f"{timezone.localtime(first_password.collect_until):%Y-%m-%d %H:%M}"}


@require_http_methods(["GET", "POST"])
@role_required(Role.SECADMIN)
def admin_roles_user(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            granted = membership_grant(
                by=request.membership,
                user=user,
                unit=d["unit"],
                role=d["role"],
                ip=client_ip(request),
            )
        except AdminRefused as e:
            refused_into(form, e)
        else:
            messages.success(
                request,
                _("已授予%(name)s：%(unit)s · %(role)s。")
                % {"name": user, "unit": d["unit"], "role": Role(d["role"]).label},
            )
            told = _first_password_told(user, granted.first_password)
            if told:
                messages.warning(request, told)
            return redirect("web:admin_roles_user", pk=user.pk)
    memberships = user.memberships.select_related("unit").order_by("-is_active", "unit__path")
    return page(
        request,
        "web/admin_roles_user.html",
        {
            "account": user,
            "memberships": list(memberships),
            "form": form,
            "locked": bool(user.locked_until and user.locked_until > timezone.now()),
            "self": user.pk == request.user.pk,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.SECADMIN)
def admin_membership_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user", "unit"), pk=pk)
    try:
        done = membership_revoke(by=request.membership, membership=membership,
                                 ip=client_ip(request))
    except AdminRefused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已撤销：%(m)s。") % {"m": membership})
        if done.unattended:
            messages.warning(request, _(
                "%(unit)s已无有效任职人员，以下事项无人办理：%(what)s。已通知其信访受理机关；"
                "请尽快为该单位授予角色。") % {"unit": membership.unit.name,
                                     "what": "；".join(done.unattended)})
    return redirect("web:admin_roles_user", pk=membership.user_id)


@require_POST
@role_required(Role.SECADMIN)
def admin_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    account_unlock(user=user, by=request.membership.user, ip=client_ip(request))
    messages.success(request, _("已解除%(name)s的锁定。") % {"name": user.username})
    back = request.POST.get("back", "")
    if back == "list":
        return redirect("web:admin_roles")
    return redirect("web:admin_roles_user", pk=user.pk)


@require_POST
@role_required(Role.SECADMIN)
def admin_totp_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Unbind a lost phone's authenticator; the user enrols again at the next sign-in (at once,
    when the role requires TOTP)."""
    user = get_object_or_404(User, pk=pk)
    if user.pk == request.user.pk:
        messages.error(request, _("不能解绑自己的动态验证码。"))
    else:
        totp_disable(user, by=request.membership.user, ip=client_ip(request))
        messages.success(request, _("已解绑%(name)s的动态验证码。") % {"name": user.username})
    return redirect("web:admin_roles_user", pk=user.pk)


@require_GET
@role_required(Role.SECADMIN)
def admin_keys(request: HttpRequest) -> HttpResponse:
    """The key ring's status: which data keys exist and which one encrypts new data. Never the
    keys themselves."""
    from xinfang.security.crypto import KeyFileError, get_keyring

    try:
        ring = get_keyring()
    except KeyFileError as e:
        return page(request, "web/admin_keys.html", {"error": str(e)})
    return page(
        request,
        "web/admin_keys.html",
        {"key_ids": ring.key_ids, "current": ring.current_key_id},
    )


# -- password resets of administrators (the second administrator) -------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN, Role.SECADMIN)
def admin_password_resets(request: HttpRequest) -> HttpResponse:
    """Pending resets of administrators' passwords. Approving one issues the one-time password,
    shown in this response only."""
    from xinfang.security.models import PasswordResetRequest

    from ..password_services import password_reset_approve, password_reset_refuse

    one_time, done_for = "", None
    if request.method == "POST":
        req = get_object_or_404(PasswordResetRequest, pk=request.POST.get("request", "0") or 0)
        try:
            if request.POST.get("decision") == "approve":
                one_time = password_reset_approve(by=request.membership, req=req,
                                                  ip=client_ip(request))
                done_for = req.user
            else:
                password_reset_refuse(by=request.membership, req=req, ip=client_ip(request))
                messages.success(request, _("已拒绝该重置申请。"))
                return redirect("web:admin_password_resets")
        except AdminRefused as e:
            messages.error(request, e.message)
            return redirect("web:admin_password_resets")
    pending = (
        PasswordResetRequest.objects.filter(status=PasswordResetRequest.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("requested_at")
    )
    return page(
        request,
        "web/admin_password_resets.html",
        {"pending": list(pending), "one_time": one_time, "done_for": done_for,
         "me": request.user.pk},
    )
