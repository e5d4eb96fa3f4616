"""The three registers beside the case ledger (seed 001 附件1–3): screening findings (L1), backlog
cases (L2) and the petition staff roster (L3). Each shows the acting membership's own
jurisdiction only; writes go through ``xinfang.registers.services``."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.models import Assignment, CasePetitioner, Demand
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import Invalid
from xinfang.cases.workflow import REGISTER_ROLES
from xinfang.org.choices import Role
from xinfang.org.models import Unit
from xinfang.registers.models import (
    BacklogCase,
    BacklogProgress,
    ScreeningFinding,
    StaffRosterEntry,
)
from xinfang.registers.services import (
    Finding,
    backlog_designate,
    backlog_progress,
    roster_upsert,
    screening_record,
    screening_to_case,
)
from xinfang.security.masking import mask_name, mask_phone

from ..context import (
    OFFICE_ROLES,
    REGISTER_KEEPERS,
    jurisdiction_of,
    membership_required,
    page,
    refuse,
)
from ..forms.registers import BacklogForm, ProgressForm, RosterForm, ScreeningForm, handling_units
from .lists import categories_of

PAGE_SIZE = 50
BACKLOG_LEADERS = {Role.APPROVER, Role.CHIEF}


def office_register(view):
    """The registers are the petition office's books: its clerk, leaders and inspectors."""

    @membership_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        m = request.membership
        home = jurisdiction_of(m)
        if m.role not in OFFICE_ROLES or home is None:
            return refuse(request, _("排查、积案和干部队伍台账由信访受理机关维护和查看。"))
        request.home = home
        return view(request, *args, **kwargs)

    return wrapper


def own_units(home: Unit) -> QuerySet[Unit]:
    """Units of this jurisdiction, not those of a jurisdiction nested inside it."""
    inside = Unit.objects.filter(path__startswith=home.path)
    nested = Q()
    for path in inside.exclude(pk=home.pk).exclude(profile_code="").values_list("path", flat=True):
        nested |= Q(path__startswith=path)
    return inside.exclude(nested) if nested else inside


def _errors_into(form, error: Refused) -> None:
    if isinstance(error, Invalid):
        for key, message in error.errors.items():
            form.add_error(key if key in form.fields else None, message)
    else:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def _context(request, here: str, **extra) -> dict:
    return {"here": here, "registers": True, "jurisdiction": request.home, **extra}


# -- L1 screening ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@office_register
def screening(request: HttpRequest) -> HttpResponse:
    m, home = request.membership, request.home
    may_keep = m.role in REGISTER_KEEPERS
    if request.method == "POST" and not may_keep:
        return refuse(request, _("督查人员只能查看排查台账。"))
    form = None
    if may_keep:
        form = ScreeningForm(
            request.POST if request.method == "POST" else None,
            jurisdiction=home,
            categories=categories_of(home),
        )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            screening_record(
                by=m,
                finding=Finding(
                    screened_on=d["screened_on"],
                    township=d["township"],
                    village=d["village"],
                    person_name=d["person_name"],
                    contact=d["contact"],
                    exited_or_monitored=d["exited_or_monitored"],
                    problem=d["problem"],
                    category=d["category"],
                    is_new=d["is_new"],
                    responsible_unit=d["responsible_unit"],
                    note=d["note"],
                ),
            )
        except Refused as e:
            _errors_into(form, e)
        else:
            messages.success(request, _("已记入排查台账。"))
            return redirect("web:screening")
    qs = (
        ScreeningFinding.objects.filter(jurisdiction=home)
        .select_related("township", "village", "responsible_unit", "case")
        .order_by("-screened_on", "-pk")
    )
    month = request.GET.get("month", "")
    if month:
        parts = month.split("-")
        if len(parts) == 2 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
            qs = qs.filter(month__year=int(parts[0]), month__month=int(parts[1]))
        else:
            qs = qs.none()
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"f": f, "name": mask_name(f.person_name), "contact": mask_phone(f.contact)}
        for f in page_obj.object_list
    ]
    return page(
        request,
        "web/screening.html",
        _context(
            request,
            "screening",
            form=form,
            page_obj=page_obj,
            rows=rows,
            first=page_obj.start_index(),
            month=month,
            extra=f"month={month}" if month else "",
            may_convert=m.role in REGISTER_ROLES,
        ),
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
@office_register
def screening_convert(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    if m.role not in REGISTER_ROLES:
        return refuse(request, _("只有经办人可以把排查线索登记为信访件。"))
    finding = get_object_or_404(ScreeningFinding, pk=pk, jurisdiction=request.home)
    try:
        case = screening_to_case(by=m, finding=finding)
    except Refused as e:
        messages.error(request, e.message)
        return redirect("web:screening")
    messages.success(request, _("排查线索已登记为信访件%(number)s。") % {"number": case.number})
    return redirect(reverse("web:case", kwargs={"pk": case.pk}))


# -- L2 backlog -----------------------------------------------------------------------------------


def _backlog_rows(m, home) -> QuerySet[BacklogCase]:
    visible = cases_for(m).filter(jurisdiction=home).values("pk")
    return (
        BacklogCase.objects.filter(case__in=visible)
        .select_related("case", "case__township", "case__village", "owner_leader")
        .prefetch_related(
            Prefetch(
                "progress",
                to_attr="entries",
                queryset=BacklogProgress.objects.select_related("by").order_by("at"),
            ),
            Prefetch(
                "case__petitioner_links",
                to_attr="main_links",
                queryset=CasePetitioner.objects.filter(role=c.PetitionerRole.MAIN).select_related(
                    "petitioner"
                ),
            ),
            Prefetch(
                "case__demands", to_attr="demand_list", queryset=Demand.objects.order_by("seq")
            ),
            Prefetch(
                "case__assignments",
                to_attr="lead_assignments",
                queryset=Assignment.objects.filter(role=c.AssignmentRole.LEAD)
                .exclude(status=c.AssignmentStatus.TRANSFERRED)
                .select_related("unit"),
            ),
        )
        .order_by("resolved_at", "plan_deadline", "pk")
    )


@require_http_methods(["GET", "POST"])
@office_register
def backlog(request: HttpRequest) -> HttpResponse:
    m, home = request.membership, request.home
    may_designate = m.role in BACKLOG_LEADERS
    if request.method == "POST" and not may_designate:
        return refuse(request, _("积案认定须由分管领导或主要领导办理。"))
    form = BacklogForm(request.POST or None, jurisdiction=home) if may_designate else None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = cases_for(m).filter(number=d["number"].strip(), jurisdiction=home).first()
        if case is None:
            form.add_error("number", _("本机关没有这个编号的信访件（或您无权查看）。"))
        else:
            try:
                backlog_designate(
                    by=m,
                    case=case,
                    owner_leader=d["owner_leader"],
                    reason=d["reason"],
                    plan=d["plan"],
                    plan_deadline=d["plan_deadline"],
                )
            except Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("%(number)s已列为积案。") % {"number": case.number})
                return redirect("web:backlog")
    page_obj = Paginator(_backlog_rows(m, home), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for b in page_obj.object_list:
        case = b.case
        rows.append(
            {
                "b": b,
                "petitioner": "、".join(mask_name(lk.petitioner.name) for lk in case.main_links),
                "categories": "、".join(dict.fromkeys(d.category for d in case.demand_list)),
                "units": "、".join(a.unit.name for a in case.lead_assignments),
                "progress_form": ProgressForm(auto_id=f"id_bp{b.pk}_%s"),
            }
        )
    return page(
        request,
        "web/backlog.html",
        _context(
            request,
            "backlog",
            form=form,
            page_obj=page_obj,
            rows=rows,
            first=page_obj.start_index(),
            may_progress=m.role in REGISTER_KEEPERS,
        ),
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
@office_register
def backlog_add_progress(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    if m.role not in REGISTER_KEEPERS:
        return refuse(request, _("督查人员只能查看积案台账。"))
    entry = get_object_or_404(_backlog_rows(m, request.home), pk=pk)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写化解进展。"))
        return redirect("web:backlog")
    try:
        backlog_progress(by=m, backlog=entry, text=form.cleaned_data["text"])
    except Refused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已记录%(number)s的化解进展。") % {"number": entry.case.number})
    return redirect(reverse("web:backlog") + f"#backlog-{entry.pk}")


# -- L3 roster ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@office_register
def roster(request: HttpRequest) -> HttpResponse:
    m, home = request.membership, request.home
    may_keep = m.role in REGISTER_KEEPERS
    if request.method == "POST" and not may_keep:
        return refuse(request, _("督查人员只能查看干部队伍台账。"))
    units = own_units(home)
    form = None
    if may_keep:
        choices = handling_units(home).filter(pk__in=units.values("pk"))
        initial = {}
        raw = request.GET.get("unit", "")
        if request.method == "GET" and raw.isdigit():
            entry = StaffRosterEntry.objects.filter(unit_id=int(raw), unit__in=units).first()
            if entry is not None:
                initial = {"unit": str(entry.unit_id)}
                initial.update({k: getattr(entry, k) for k in RosterForm.FIELDS})
        form = RosterForm(
            request.POST if request.method == "POST" else None, units=choices, initial=initial
        )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            roster_upsert(by=m, unit=d["unit"], **{k: d[k] for k in RosterForm.FIELDS})
        except Refused as e:
            _errors_into(form, e)
        else:
            messages.success(request, _("已更新%(unit)s的信访干部信息。") % {"unit": d["unit"]})
            return redirect("web:roster")
    entries = (
        StaffRosterEntry.objects.filter(unit__in=units)
        .select_related("unit")
        .order_by("unit__level", "unit__kind", "unit__name")
    )
    return page(
        request,
        "web/roster.html",
        _context(request, "roster", form=form, entries=list(entries)),
        status=400 if form is not None and form.errors else 200,
    )
