"""The rules in force, read from the stored profile versions, and the working calendar's years,
with the system administrator's upload of a new year's holiday notice (``calendar_load``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods

from xinfang.org.choices import Role
from xinfang.org.models import Unit
from xinfang.rules.calendar import NoticeError
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import Profile
from xinfang.rules.services import (
    CalendarRefused,
    calendar_ahead,
    calendar_load,
    calendar_years,
)
from xinfang.rules.store import current_version, profile_of
from xinfang.rules.versions import parent_name
from xinfang.security.auth import client_ip

from ..context import OFFICE_ROLES, jurisdiction_of, page, role_required
from ..forms.admin import CalendarUploadForm
from ..present import profile_event_label, role_label

RULES_READERS = (Role.SYSADMIN, *OFFICE_ROLES)
UNIT_WORDS = {
    "hours": _l("小时"),
    "same_day": _l("当天"),
    "days": _l("日"),
    "weeks": _l("周"),
    "working_days": _l("个工作日"),
}


def duration_text(amount: int, unit: str) -> str:
    if unit == "same_day":
        return _("当天")
    return f"{amount}{UNIT_WORDS.get(unit, unit)}"


@dataclass
class InForce:
    units: list[Unit]
    version: ProfileVersion
    profile: Profile

    @property
    def parent(self) -> str:
        """The Chinese name of the profile this one extends (empty for the national default)."""
        return parent_name(self.version)

    @property
    def clocks(self) -> list[dict]:
        return [
            {
                "rule": k,
                "duration": duration_text(k.amount, k.unit),
                "start": "、".join(profile_event_label(e) for e in k.start),
                "stop": "、".join(profile_event_label(e) for e in k.stop),
                "roll": k.unit in ("days", "weeks") and k.roll,
            }
            for k in self.profile.all_clocks
        ]

    @property
    def warnings(self) -> list[dict]:
        return [
            {
                "rule": w,
                "to": "、".join(role_label(r) for r in w.to),
                "cc": "、".join(role_label(r) for r in w.cc),
                "follow_up": duration_text(w.follow_up.amount, w.follow_up.unit)
                if w.follow_up
                else "",
            }
            for w in self.profile.warnings
        ]


def _in_force(request) -> list[InForce]:
    """Each jurisdiction's profile in force: every one for the system administrator, the
    membership's own for the office."""
    m = request.membership
    if m.role == Role.SYSADMIN:
        units = list(Unit.objects.filter(is_active=True).exclude(profile_code="").order_by("path"))
    else:
        home = jurisdiction_of(m)
        units = [home] if home is not None else []
    by_code: dict[str, list[Unit]] = {}
    for unit in units:
        by_code.setdefault(unit.profile_code, []).append(unit)
    out = []
    for code, holders in by_code.items():
        version = current_version(code)
        out.append(InForce(holders, version, profile_of(version)))
    return out


@require_GET
@role_required(*RULES_READERS)
def profiles(request: HttpRequest) -> HttpResponse:
    return page(
        request,
        "web/rules_profiles.html",
        {"in_force": _in_force(request)},
    )


@require_http_methods(["GET", "POST"])
@role_required(*RULES_READERS)
def calendar(request: HttpRequest) -> HttpResponse:
    m = request.membership
    may_load = m.role == Role.SYSADMIN
    form = CalendarUploadForm(request.POST or None, request.FILES or None) if may_load else None
    line_errors: list[str] = []
    if request.method == "POST":
        if not may_load:
            return page(
                request,
                "web/refused.html",
                {"message": _("只有系统管理员可以载入节假日安排。")},
                status=403,
            )
        if form.is_valid():
            upload = form.cleaned_data["file"]
            source = upload.name[:200]
            replace = form.cleaned_data["replace"]
            try:
                row = calendar_load(
                    text=form.notice_text, source=source, by=request.user, replace=replace,
                    ip=client_ip(request),
                )
            except NoticeError as e:
                line_errors = [error.message for error in e.errors]
                form.add_error(
                    "file",
                    _("文件有 %(n)s 处错误，未载入，请逐行改正后重新上传。") % {"n": len(e.errors)},
                )
            except CalendarRefused as e:
                form.add_error("replace" if not replace else None, str(e))
            else:
                messages.success(
                    request,
                    _("已载入%(year)s年节假日安排，重算时限 %(n)s 个。")
                    % {"year": row.year, "n": row.recomputed_clocks},
                )
                return redirect("web:rules_calendar")
    years = calendar_years()
    return page(
        request,
        "web/rules_calendar.html",
        {
            "years": list(reversed(years)),  # the newest year, the one that matters, first
            "form": form,
            "line_errors": line_errors,
            "next_year": (years[-1].year + 1) if years else None,
            "ahead": calendar_ahead(),
        },
        status=400 if form is not None and form.errors else 200,
    )
