"""The system administrator's profile versions: upload a profile file (mistakes shown by line and
key), see each version and what changed from the one before, install the shipped files' new
versions, and move open cases to a newer version. The writes are ``rules.versions``' services."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.org.choices import Role
from xinfang.org.models import Unit
from xinfang.rules.diff import profile_diff
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import ProfileError
from xinfang.rules.store import profile_of
from xinfang.rules.versions import (
    migration_plan,
    open_cases_to_migrate,
    parent_name,
    profile_install,
    profile_migrate,
    profile_sync,
    profile_versions,
    shipped_states,
)
from xinfang.security.auth import client_ip

from ..context import page, role_required
from ..forms.admin import ProfileUploadForm
from .rules import InForce

PLAN_SHOWN = 200  # cases listed on the migration page; the count covers them all


@dataclass
class Group:
    code: str
    rows: list
    units: list[Unit]

    @property
    def newest(self):
        return self.rows[0]

    @property
    def waiting(self) -> int:
        """Open cases on an older version than the newest."""
        return sum(row.open_cases for row in self.rows[1:])


def _groups() -> list[Group]:
    groups: dict[str, Group] = {}
    for row in profile_versions():
        groups.setdefault(row.code, Group(row.code, [], [])).rows.append(row)
    for unit in Unit.objects.filter(is_active=True, profile_code__in=groups).order_by("path"):
        groups[unit.profile_code].units.append(unit)
    return sorted(groups.values(), key=lambda g: (g.code != "national", g.newest.name))


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def versions(request: HttpRequest) -> HttpResponse:
    form = ProfileUploadForm(request.POST or None, request.FILES or None)
    issues, checked = [], None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = profile_install(
                text=form.profile_text, source=upload.name[:200], by=request.membership,
                ip=client_ip(request), dry_run=form.cleaned_data["dry_run"],
            )  # fmt: skip
        except ProfileError as e:
            issues = e.errors
            form.add_error(
                "file",
                _("文件有 %(n)s 处错误，未安装。请按行号和键名改正后重新上传。")
                % {"n": len(issues)},
            )
        else:
            profile = result.candidate.profile
            if result.dry_run:
                checked = result
            else:
                if result.created:
                    messages.success(
                        request,
                        _("已安装“%(name)s”第%(v)s版，新登记的信访件即按此版本办理。")
                        % {"name": profile.name, "v": profile.version},
                    )
                else:
                    messages.info(request, _("该版本已安装，内容相同，未作改动。"))
                return redirect("web:rules_version", code=profile.code, number=profile.version)
    # A shipped file never installed is installed on first use; only the ones an administrator
    # should act on are shown.
    pending = [s for s in shipped_states() if s.state in ("newer", "changed", "broken")]
    return page(
        request,
        "web/rules_versions.html",
        {"groups": _groups(), "form": form, "issues": issues, "checked": checked,
         "pending": pending},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_POST
@role_required(Role.SYSADMIN)
def sync(request: HttpRequest) -> HttpResponse:
    results = profile_sync(by=request.membership)
    installed = [r for r in results if r.state == "installed"]
    for r in results:
        if r.state == "refused":
            messages.error(
                request, _("内置配置 %(code)s 未安装：%(m)s") % {"code": r.code, "m": r.message}
            )
    if installed:
        messages.success(request, _("已安装内置配置新版本 %(n)s 个。") % {"n": len(installed)})
    else:
        messages.info(request, _("内置配置均已是最新版本。"))
    return redirect("web:rules_versions")


def _row(code: str, number: int) -> ProfileVersion:
    row = ProfileVersion.objects.filter(code=code, version=number).select_related("loaded_by")
    row = row.first()
    if row is None:
        raise Http404(_("没有这个规则配置版本。"))
    return row


@require_GET
@role_required(Role.SYSADMIN)
def version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    row = _row(code, number)
    profile = profile_of(row)
    before = ProfileVersion.objects.filter(code=code, version__lt=number).order_by("-version")
    before = before.first()
    newest = ProfileVersion.objects.filter(code=code).order_by("-version").first()
    units = list(Unit.objects.filter(is_active=True, profile_code=code).order_by("path"))
    return page(
        request,
        "web/rules_version.html",
        {
            "row": row,
            "f": InForce(units, row, profile),
            "parent": parent_name(row),
            "before": before,
            "changes": profile_diff(profile_of(before), profile) if before else [],
            "is_newest": newest == row,
            "waiting": open_cases_to_migrate(row) if newest == row else 0,
            "counts": profile_versions(code).filter(pk=row.pk).first(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def migrate(request: HttpRequest, code: str, number: int) -> HttpResponse:
    row = _row(code, number)
    if request.method == "POST":
        done = profile_migrate(target=row, by=request.membership, ip=client_ip(request))
        messages.success(
            request,
            _(
                "已将 %(n)s 件在办信访件迁移到第%(v)s版，重算时限 %(k)s 个，"
                "每件的办理记录中均已注明。"
            )
            % {"n": len(done.cases), "v": row.version, "k": done.clocks_moved},
        )
        return redirect("web:rules_version", code=code, number=number)
    total = open_cases_to_migrate(row)
    plan = migration_plan(target=row, limit=PLAN_SHOWN)
    return page(
        request,
        "web/rules_migrate.html",
        {"row": row, "plan": plan, "total": total, "shown": len(plan.cases),
         "profile": profile_of(row)},
    )  # fmt: skip
