"""The system administrator's pages (三员分立): units and user accounts. None of them shows a
case. Writes go through ``web.admin_services``; the security administrator's pages are in
``views.security`` and the auditor's in ``views.audit``."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.db.counts import row_count
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit, User
from xinfang.rules.services import calendar_ahead
from xinfang.rules.versions import profile_names
from xinfang.security.auth import client_ip

from ..admin_services import (
    AdminRefused,
    profile_codes,
    unit_create,
    unit_set_active,
    unit_update,
    user_create,
    user_set_active,
)
from ..context import page, pager_query, role_required
from ..forms.admin import PasswordResetRequestForm, UnitEditForm, UnitForm, UserCreateForm
from ..password_services import (
    holds_admin_role,
    password_collectors,
    password_reset_request,
    user_password_reset,
)

PAGE_SIZE = 50


def paged(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def refused_into(form, error: AdminRefused) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _search(request) -> str:
    return request.GET.get("q", "").strip()[:50]


# -- units (system administrator) ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def admin_units(request: HttpRequest) -> HttpResponse:
    form = UnitForm(request.POST or None, profile_codes=profile_codes())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            unit = unit_create(
                by=request.membership,
                name=d["name"],
                level=d["level"],
                kind=d["kind"],
                parent=d["parent"],
                short_name=d["short_name"],
                profile_code=d["profile_code"],
                phone=d["phone"],
                ip=client_ip(request),
            )
        except AdminRefused as e:
            refused_into(form, e)
        else:
            messages.success(request, _("已创建单位：%(name)s。") % {"name": unit.name})
            return redirect("web:admin_units")
    # Each shown unit's members counted by a subquery of its own row: a count joined and
    # grouped over every unit sorted all 37,000 of a province's units for the 50 of a page.
    members = Membership.objects.filter(unit=OuterRef("pk"), is_active=True)
    qs = Unit.objects.annotate(members=row_count(members)).order_by("path")
    q = _search(request)
    if q:
        qs = qs.filter(name__icontains=q)
    page_obj = paged(request, qs)
    names = profile_names(sorted({u.profile_code for u in page_obj.object_list} - {""}))
    for unit in page_obj.object_list:
        unit.depth = min(unit.path.count("/") - 2, 5)
        unit.profile_label = names.get(unit.profile_code, unit.profile_code)
    return page(
        request,
        "web/admin_units.html",
        {
            "page_obj": page_obj,
            "form": form,
            "q": q,
            "extra": pager_query(request),
            "open_form": request.method == "POST",
            # The deadlines counted on a year whose holiday notice waits to be loaded: the
            # system administrator's landing page says so before anyone asks.
            "ahead": calendar_ahead(),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def admin_unit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit.objects.select_related("parent"), pk=pk)
    initial = {k: getattr(unit, k) for k in ("name", "short_name", "profile_code", "phone")}
    form = UnitEditForm(request.POST or None, initial=initial, profile_codes=profile_codes())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            unit_update(
                by=request.membership,
                unit=unit,
                name=d["name"],
                short_name=d["short_name"],
                profile_code=d["profile_code"],
                phone=d["phone"],
                effective=d["effective"],
                ip=client_ip(request),
            )
        except AdminRefused as e:
            refused_into(form, e)
        else:
            messages.success(request, _("已保存单位：%(name)s。") % {"name": d["name"]})
            return redirect("web:admin_units")
    return page(
        request,
        "web/admin_unit.html",
        # the names it bore (``UnitName``): what a past period's tables call it
        {"unit": unit, "form": form,
         "names": list(unit.names.order_by(F("valid_from").asc(nulls_first=True), "pk"))},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.SYSADMIN)
def admin_unit_active(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        unit_set_active(by=request.membership, unit=unit, active=active, ip=client_ip(request))
    except AdminRefused as e:
        messages.error(request, e.message)
    else:
        text = _("已启用：%(name)s。") if active else _("已停用：%(name)s。")
        messages.success(request, text % {"name": unit.name})
    return redirect("web:admin_units")


# -- accounts (system administrator) -------------------------------------------------------------


def users_matching(request):
    qs = User.objects.order_by("username").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("unit"))
    )
    q = _search(request)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return qs, q


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def admin_users(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = user_create(
                by=request.membership,
                username=d["username"],
                full_name=d["full_name"],
                password=d["password1"],
                phone=d["phone"],
                position=d["position"],
                ip=client_ip(request),
            )
        except AdminRefused as e:
            if e.field == "password":
                form.add_error("password1", e.message)
            else:
                refused_into(form, e)
        else:
            messages.success(
                request,
                _("已创建用户：%(name)s。请安全管理员为其分配角色；授予首个业务角色时，您设定的"
                  "初始密码即作废，一次性密码由该单位的分管领导或主要领导领取后交给本人。")
                % {"name": user.username},
            )
            return redirect("web:admin_users")
    qs, q = users_matching(request)
    return page(
        request,
        "web/admin_users.html",
        {
            "page_obj": paged(request, qs),
            "form": form,
            "q": q,
            "extra": pager_query(request),
            "open_form": request.method == "POST",
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def admin_user(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset an account's password. An ordinary account's one-time password is collected by a
    leader of its own unit (the page says who, never the password); an administrator's reset
    needs a request that another administrator approves."""
    from xinfang.security.models import PasswordHandover, PasswordResetRequest

    user = get_object_or_404(User, pk=pk)
    is_admin = holds_admin_role(user)
    form = PasswordResetRequestForm(request.POST or None)
    error = ""
    if request.method == "POST":
        try:
            if not is_admin:
                user_password_reset(by=request.membership, user=user, ip=client_ip(request))
                messages.success(request, _("已重置%(name)s的密码，原密码即时失效；一次性密码待"
                                            "其单位领导领取。") % {"name": user.username})
                return redirect("web:admin_user", pk=user.pk)
            if form.is_valid():
                password_reset_request(by=request.membership, user=user,
                                       reason=form.cleaned_data["reason"], ip=client_ip(request))
                messages.success(
                    request, _("已提交%(name)s的密码重置申请，待另一名管理员批准。")
                    % {"name": user.username})
                return redirect("web:admin_user", pk=user.pk)
        except AdminRefused as e:
            if is_admin:
                refused_into(form, e)
            else:
                error = e.message
    pending = PasswordResetRequest.objects.filter(
        user=user, status=PasswordResetRequest.Status.PENDING).select_related("requested_by")
    handover = (PasswordHandover.objects.filter(user=user).select_related("collected_by")
                .order_by("-reset_at", "-pk").first())
    return page(
        request,
        "web/admin_user.html",
        {"account": user, "form": form, "is_admin": is_admin, "error": error,
         "pending": pending.first(), "handover": handover,
         "collectors": password_collectors(user) if not is_admin else []},
        status=400 if (form.errors and is_admin) or error else 200,
    )


@require_POST
@role_required(Role.SYSADMIN)
def admin_user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        user_set_active(by=request.membership, user=user, active=active, ip=client_ip(request))
    except AdminRefused as e:
        messages.error(request, e.message)
    else:
        text = _("已启用账户：%(name)s。") if active else _("已停用账户：%(name)s。")
        messages.success(request, text % {"name": user.username})
    return redirect("web:admin_users")
