"""The three registers beside the case ledger (seed 001 附件1–3): screening findings (L1), backlog
cases (L2) and the petition staff roster (L3). Lines come through the registers' door
(``xinfang.registers.selectors``): the office sees its jurisdiction's, a township (or another
unit below) its own; writes go through ``xinfang.registers.services``. Each page exports its
ledger with the page's filters (masked over the API; in clear with a reason by the office)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.api.membership import parse_id
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for, lead_unit_names, main_names
from xinfang.cases.services import Invalid
from xinfang.cases.workflow import REGISTER_ROLES
from xinfang.ledgers.exports import LEDGER_TITLES
from xinfang.ledgers.filters import filter_backlog, filter_findings
from xinfang.org.choices import Role
from xinfang.org.models import OFFICE, Unit
from xinfang.registers.models import (
    BacklogCase,
    BacklogProgress,
    StaffRosterEntry,
)
from xinfang.registers.selectors import (
    backlog_for,
    findings_for,
    is_locality,
    register_access,
    roster_for,
)
from xinfang.registers.services import (
    Finding,
    backlog_designate,
    backlog_progress,
    backlog_resolve,
    backlog_update,
    roster_upsert,
    screening_record,
    screening_to_case,
    screening_update,
)
from xinfang.security.masking import mask_name, mask_phone
from xinfang.security.once import Repeated, form_once, once_input, repeated

from ..context import (
    jurisdiction_of,
    membership_required,
    page,
    pager_query,
    refuse,
)
from ..forms.registers import (
    BacklogForm,
    KeepForm,
    ProgressForm,
    ResolveForm,
    RosterForm,
    ScreeningForm,
    handling_units,
)
from ..present import ROW_MARK, backlog_rows_html, field_html
from .lists import categories_of

PAGE_SIZE = 50
BACKLOG_LEADERS = {Role.APPROVER, Role.CHIEF}


def office_register(view):
    """The registers are the petition office's books (its clerk, leaders and inspectors), and
    each unit below keeps its own lines in them (``registers.selectors``)."""

    @membership_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        m = request.membership
        access = register_access(m)
        home = access.home if access and access.office else jurisdiction_of(m)
        if access is None or home is None:
            return refuse(
                request, _("排查、积案和干部队伍台账由信访受理机关和责任单位维护和查看。"))
        request.home, request.access = home, access
        return view(request, *args, **kwargs)

    return wrapper


def _export(request, code: str) -> dict:
    """The page's export: the API link with the page's filters, and in clear for the office."""
    query = request.GET.copy()
    query.pop("page", None)
    url = reverse(f"api:ledger-{code}") + (f"?{query.urlencode()}" if query else "")
    return {"code": code, "export_url": url, "export_title": LEDGER_TITLES[code],
            "unmasked_export": request.access.office and request.access.keeps}


def own_units(home: Unit) -> QuerySet[Unit]:
    """Units of this jurisdiction, not those of a jurisdiction nested inside it."""
    inside = Unit.objects.filter(path__under=home.path)
    nested = Q()
    for path in inside.filter(OFFICE).exclude(pk=home.pk).values_list("path", flat=True):
        nested |= Q(path__under=path)
    return inside.exclude(nested) if nested else inside


def _errors_into(form, error: Refused) -> None:
    if isinstance(error, Invalid):
        for key, message in error.errors.items():
            form.add_error(key if key in form.fields else None, message)
    else:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def _context(request, here: str, **extra) -> dict:
    access = request.access
    return {"here": here, "registers": True, "jurisdiction": request.home,
            "own_unit": access.unit, "office": access.office, **extra}


# -- L1 screening ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@office_register
def screening(request: HttpRequest) -> HttpResponse:
    m, home, access = request.membership, request.home, request.access
    may_keep = access.keeps
    if request.method == "POST" and not may_keep:
        return refuse(request, _("督查人员只能查看排查台账。"))
    form = None
    if may_keep:
        form = ScreeningForm(
            request.POST if request.method == "POST" else None,
            jurisdiction=home,
            categories=categories_of(home),
        )
        if access.office:
            pass
        elif is_locality(access.unit):  # a township records its own findings only
            form.only_within(access.unit)
        else:  # a bureau, its own line's, as their responsible unit
            form.for_bureau(access.unit)
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
        filter_findings(findings_for(m), request.GET)
        .select_related("township", "village", "responsible_unit", "case")
        .order_by("-screened_on", "-pk")
    )
    month = request.GET.get("month", "")
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
            extra=pager_query(request),
            may_convert=m.role in REGISTER_ROLES and access.office,
            may_keep=may_keep,
            **_export(request, "l1"),
        ),
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
@office_register
def screening_convert(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    if m.role not in REGISTER_ROLES:
        return refuse(request, _("只有经办人可以把排查线索登记为信访件。"))
    if not request.access.office:
        return refuse(request, _("只有受理机关的经办人可以把排查线索登记为信访件。"))
    finding = get_object_or_404(findings_for(m), pk=pk)
    try:
        case = screening_to_case(by=m, finding=finding)
    except Refused as e:
        messages.error(request, e.message)
        return redirect("web:screening")
    messages.success(request, _("排查线索已登记为信访件%(number)s。") % {"number": case.number})
    return redirect(reverse("web:case", kwargs={"pk": case.pk}))


# -- L2 backlog -----------------------------------------------------------------------------------


# Open lines first, then the soonest deadline, lines without one last — the same on both
# databases, which put empty values at opposite ends by themselves (``registers`` 0004 indexes
# it).
REGISTER_ORDER = (F("resolved_at").asc(nulls_first=True), F("plan_deadline").asc(nulls_last=True),
                  "pk")


def _backlog_rows(m, home) -> QuerySet[BacklogCase]:
    """The register's lines through the door, with their progress entries; of the case, its
    number alone (a line's own columns hold what the register shows of it: the matter, the
    category, the locality). The case's 55 columns and its relations were read as models:
    with the names and units below as values, the page's CPU 65 → 55 ms at 1M (lead30)."""
    return (
        backlog_for(m)
        .select_related("case", "township", "village", "owner_leader", "responsible_unit")
        .only(*BACKLOG_LINE, "case__number")
        .prefetch_related(
            Prefetch(
                "progress",
                to_attr="entries",
                queryset=BacklogProgress.objects.select_related("by").order_by("at"),
            ),
        )
        .order_by(*REGISTER_ORDER)
    )


def _progress_field() -> str:
    """The progress form's field (``present.field_html``) of a line, written once for the
    page with ``ROW_MARK`` in its ids, where ``present.backlog_rows_html`` puts each line's
    number. Rendered per line, the include and the widget were a fifth of the register's
    time."""
    return field_html(ProgressForm(auto_id=f"id_bp{ROW_MARK}_%s")["text"])


BACKLOG_LINE = tuple(f.name for f in BacklogCase._meta.concrete_fields)


def _backlog_people(lines: list[BacklogCase]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The lines' cases' main petitioners' names and the names of the units leading their
    handling (the register's 承办单位 where the line names none), as plain values."""
    ids = [b.case_id for b in lines if b.case_id is not None]
    if not ids:
        return {}, {}
    return main_names(ids), lead_unit_names(ids)


@require_http_methods(["GET", "POST"])
@office_register
def backlog(request: HttpRequest) -> HttpResponse:
    m, home, access = request.membership, request.home, request.access
    may_designate = m.role in BACKLOG_LEADERS and access.office
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
    lines = filter_backlog(_backlog_rows(m, home), request.GET)
    page_obj = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    names, leads = _backlog_people(list(page_obj.object_list))
    rows = []
    for b in page_obj.object_list:
        if b.case_id is not None:
            petitioner = "、".join(mask_name(name) for name in names.get(b.case_id, []))
            units = "、".join(leads.get(b.case_id, []))
        else:
            petitioner, units = mask_name(b.person_name), ""
        rows.append(
            {
                "b": b,
                "petitioner": petitioner,
                "categories": b.category,
                "units": b.responsible_unit.name if b.responsible_unit else (
                    b.responsible_unit_text or units),
                "leader": (b.owner_leader.full_name or b.owner_leader.username)
                if b.owner_leader else b.owner_leader_text,
                "locality": b.locality_text or "".join(
                    u.name for u in (b.township, b.village) if u is not None),
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
            rows=backlog_rows_html(
                rows, first=page_obj.start_index(), keeps=access.keeps,
                progress_field=_progress_field() if access.keeps else "",
                csrf=csrf_input(request) if access.keeps else "",
                once=lambda: once_input(request)) if rows else "",
            resolved=request.GET.get("resolved", ""),
            extra=pager_query(request),
            **_export(request, "l2"),
        ),
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
@office_register
def backlog_add_progress(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    if not request.access.keeps:
        return refuse(request, _("督查人员只能查看积案台账。"))
    entry = get_object_or_404(_backlog_rows(m, request.home), pk=pk)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写化解进展。"))
        return redirect("web:backlog")
    try:
        with form_once(request) as once:
            backlog_progress(by=m, backlog=entry, text=form.cleaned_data["text"])
            once.answer(reverse("web:backlog") + f"#backlog-{entry.pk}")
    except Repeated as r:  # the same form sent again: the progress recorded once
        return repeated(request, r)
    except Refused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已记录%(number)s的化解进展。") % {
            "number": entry.case.number if entry.case else f"#{entry.pk}"})
    return redirect(reverse("web:backlog") + f"#backlog-{entry.pk}")


# -- L3 roster ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@office_register
def roster(request: HttpRequest) -> HttpResponse:
    m, home, access = request.membership, request.home, request.access
    may_keep = access.keeps
    if request.method == "POST" and not may_keep:
        return refuse(request, _("督查人员只能查看干部队伍台账。"))
    units = own_units(home) if access.office else Unit.objects.filter(pk=access.unit.pk)
    form = None
    if may_keep:
        choices = (handling_units(home).filter(pk__in=units.values("pk")) if access.office
                   else units)
        initial = {}
        raw = request.GET.get("unit", "")
        if request.method == "GET" and (unit_id := parse_id(raw)):
            entry = StaffRosterEntry.objects.filter(unit_id=unit_id, unit__in=units).first()
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
        roster_for(m).filter(unit__in=units)
        .select_related("unit")
        .order_by("unit__level", "unit__kind", "unit__name")
    )
    return page(
        request,
        "web/roster.html",
        _context(request, "roster", form=form, entries=list(entries), **_export(request, "l3")),
        status=400 if form is not None and form.errors else 200,
    )


# -- keeping a line: 三到位一处理, 是否稳定, 备注; resolving a backlog line ------------


def _keep_initial(row) -> dict:
    return {k: getattr(row, k) for k in KeepForm.FIELDS}


@require_http_methods(["GET", "POST"])
@office_register
def screening_keep(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    row = get_object_or_404(findings_for(m).select_related("township", "village"), pk=pk)
    if not request.access.keeps:
        return refuse(request, _("督查人员只能查看排查台账。"))
    form = KeepForm(request.POST if request.method == "POST" else None,
                    initial=_keep_initial(row))
    if request.method == "POST" and form.is_valid():
        try:
            screening_update(by=m, finding=row,
                             changes={k: form.cleaned_data[k] for k in KeepForm.FIELDS})
        except Refused as e:
            _errors_into(form, e)
        else:
            messages.success(request, _("已更新这条排查线索。"))
            return redirect(reverse("web:screening") + f"#finding-{row.pk}")
    return page(request, "web/register_keep.html",
                _context(request, "screening", form=form, row=row, what="screening",
                         name=mask_name(row.person_name)),
                status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@office_register
def backlog_keep(request: HttpRequest, pk: int) -> HttpResponse:
    m, access = request.membership, request.access
    row = get_object_or_404(_backlog_rows(m, request.home), pk=pk)
    if not access.keeps:
        return refuse(request, _("督查人员只能查看积案台账。"))
    may_resolve = access.office and m.role in BACKLOG_LEADERS and row.resolved_at is None
    resolving = request.method == "POST" and "v-outcome" in request.POST
    form = KeepForm(request.POST if request.method == "POST" and not resolving else None,
                    initial=_keep_initial(row))
    resolve = ResolveForm(request.POST if resolving else None) if may_resolve else None
    if resolving:
        if resolve is None:
            return refuse(request, _("积案化解须由受理机关的分管或主要领导确认。"))
        if resolve.is_valid():
            try:
                backlog_resolve(by=m, backlog=row, outcome=resolve.cleaned_data["outcome"],
                                stable=resolve.cleaned_data["stable"])
            except Refused as e:
                _errors_into(resolve, e)
            else:
                messages.success(request, _("已确认积案化解。"))
                return redirect(reverse("web:backlog") + f"#backlog-{row.pk}")
    elif request.method == "POST" and form.is_valid():
        try:
            backlog_update(by=m, backlog=row,
                           changes={k: form.cleaned_data[k] for k in KeepForm.FIELDS})
        except Refused as e:
            _errors_into(form, e)
        else:
            messages.success(request, _("已更新这条积案。"))
            return redirect(reverse("web:backlog") + f"#backlog-{row.pk}")
    failed = form.errors or (resolve is not None and resolve.errors)
    name = ("、".join(mask_name(n) for n in main_names([row.case_id]).get(row.case_id, []))
            if row.case_id else mask_name(row.person_name))
    return page(request, "web/register_keep.html",
                _context(request, "backlog", form=form, resolve=resolve, row=row,
                         what="backlog", name=name),
                status=400 if failed else 200)
