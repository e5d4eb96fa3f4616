"""The practices' pages (server-rendered, Chinese). Views parse and call the services; every
read goes through ``practices.selectors`` (and through it ``cases_for``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from xinfang.audit.services import REVEAL, audit_record
from xinfang.cases.disclosure import Reach, may_reveal_petitioner, reveal_reach
from xinfang.cases.selectors import cases_for
from xinfang.db.plans import planned_each_time
from xinfang.org.choices import UnitKind
from xinfang.org.models import Membership, Unit
from xinfang.registers.selectors import findings_for
from xinfang.security.auth import client_ip
from xinfang.security.masking import mask_name
from xinfang.security.once import Repeated, form_once, repeated
from xinfang.web.context import membership_required, page, refuse
from xinfang.web.present import KEY, esc, urls_of

from . import forms as f
from . import services as s
from .holders import holders
from .reading import duty_receptions, meeting_status, owed_return_visits, owed_rows, watch_overdue
from .rules import WEEKDAYS, duty_days, meeting_rules, practices_of
from .selectors import (
    LEADERS,
    access_of,
    campaigns_for,
    duty_slots_for,
    field_visits_for,
    meetings_for,
    persuades_for,
    return_visits_for,
    tasks_of,
    watch_for,
    watch_person,
    watch_reach,
    with_visible_cases,
)
from .services.persuade import MEMBER_LABELS
from .services.watch import OWNER_ROLES

PAGE_SIZE = 50
OWED_SHOWN = 50


def practice_page(view):
    """Signed in as a membership the practices know (the office of a jurisdiction, or a unit
    below it that keeps its own records)."""

    @membership_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        access = access_of(request.membership)
        if access is None:
            return refuse(request, _("您当前的角色不参与这些工作机制。"))
        request.access = access
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _errors_into(form, error: s.Refused) -> None:
    if isinstance(error, s.Invalid):
        for key, message in error.errors.items():
            form.add_error(key if key in form.fields else None, f"{message}")
    else:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def case_ids(m: Membership, text: str, field: str = "case_numbers") -> list[int]:
    wanted = f.numbers(text)
    found = dict(cases_for(m).filter(number__in=wanted).values_list("number", "pk"))
    missing = [n for n in wanted if n not in found]
    if missing:
        raise s.Invalid({field: "未找到信访件（或无权查看）：" + "、".join(missing)})
    return list(found.values())


def _ctx(request, here: str, **extra) -> dict:
    return {"here": here, "access": request.access, "home": request.access.home, **extra}


@require_http_methods(["GET"])
@practice_page
def index(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    owed = owed_return_visits(cases_for(m))
    return page(
        request,
        "practices/index.html",
        _ctx(
            request,
            "index",
            # counted to the cap as found, not in the list's order (each case's delivery
            # instant is read to sort them: 430 ms for a county's 35,000 at 1M cases)
            owed=owed.order_by().values("pk")[: OWED_SHOWN + 1].count(),
            status=meeting_status(access.home),
            watch_overdue=watch_overdue(access.home),
            practices=practices_of(access.home),
        ),
    )


# --- return visits -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def return_visits(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    with planned_each_time():  # see reading.owed_return_visits
        owed = owed_rows(list(owed_return_visits(cases_for(m))[:OWED_SHOWN]))
    form = None
    if access.keeps:
        form = f.ReturnVisitForm(
            request.POST if request.method == "POST" else None,
            owed=owed,
            initial={"case": request.GET.get("case", "")},
        )
    if request.method == "POST":
        if form is None:
            return refuse(request, _("督查人员只能查看回访记录。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                s.return_visit_record(
                    by=m,
                    case_id=d["case"],
                    visited_at=d["visited_at"],
                    method=d["method"],
                    outcome=d["outcome"],
                    satisfaction=d["satisfaction"],
                    note=d["note"],
                )
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已记录回访。"))
                return redirect("practices:return_visits")
    visits = Paginator(return_visits_for(m), PAGE_SIZE).get_page(request.GET.get("page"))
    return page(
        request,
        "practices/return_visits.html",
        _ctx(request, "return_visits", owed=owed, form=form, page_obj=visits),
        status=400 if form is not None and form.errors else 200,
    )


# --- meetings ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def meetings(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    rules = meeting_rules(practices_of(access.home))
    units = []
    if access.office:
        seen = {}
        for r in rules:
            if r.by != "office":
                for u in holders(r, access.home):
                    seen[u.pk] = u
        units = list(seen.values())
    else:
        rules = tuple(r for r in rules if r.by != "office")
    form = None
    if access.keeps and rules:
        findings = list(findings_for(m).order_by("-screened_on", "-pk")[:100])
        form = f.MeetingForm(
            request.POST if request.method == "POST" else None,
            rules=rules,
            units=units,
            findings=findings,
        )
    if request.method == "POST":
        if form is None:
            return refuse(request, _("您不能记录会议。"))
        if form.is_valid():
            d = form.cleaned_data
            unit = Unit.objects.filter(pk=d["unit"]).first() if d.get("unit") else None
            try:
                with form_once(request) as once:
                    s.meeting_record(
                        by=m,
                        rule=d["rule"],
                        held_on=d["held_on"],
                        chaired_by=d["chaired_by"],
                        attendees=d["attendees"],
                        discussion=d["discussion"],
                        measures=d["measures"],
                        unit=unit,
                        case_ids=case_ids(m, d["case_numbers"]),
                        finding_ids=d["findings"],
                    )
                    once.answer(reverse("practices:meetings"))
            except Repeated as r:  # the same form sent again: one record of the meeting
                return repeated(request, r)
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已记录会议。"))
                return redirect("practices:meetings")
    qs = with_visible_cases(meetings_for(m), m).prefetch_related("findings")
    rows = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    status = [st for st in meeting_status(access.home) if access.office or st.rule.by != "office"]
    if not access.office:
        for st in status:
            st.missed = [u for u in st.missed if u.pk == access.unit.pk]
    return page(
        request,
        "practices/meetings.html",
        _ctx(request, "meetings", form=form, page_obj=rows, status=status),
        status=400 if form is not None and form.errors else 200,
    )


# --- watch list ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def watch(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    form = people = None
    if access.office and access.keeps:
        number = (request.POST.get("case_number") or request.GET.get("case_number") or "").strip()
        case = cases_for(m).filter(number=number).first() if number else None
        links = list(case.petitioner_links.select_related("petitioner")) if case else []
        # The office of the case's jurisdiction reveals everyone of it (disclosure.Reach.ALL);
        # an office above that reads the case (the city's, for a county case) reads them masked.
        reach = reveal_reach(case, m) if case else Reach.NONE
        people = [
            (str(lk.petitioner_id), lk.petitioner.name
             if may_reveal_petitioner(case, lk.petitioner, m, link=lk, reach=reach)
             else mask_name(lk.petitioner.name))
            for lk in links
        ]
        owners = list(
            Membership.objects.filter(
                is_active=True, role__in=OWNER_ROLES, unit__path__under=access.home.path
            )
            .select_related("user", "unit")
            .order_by("unit__path", "pk")[:300]
        )
        form = f.WatchAddForm(
            request.POST if request.method == "POST" else None,
            people=people,
            owners=owners,
            initial={"case_number": number},
        )
    if request.method == "POST":
        if form is None:
            return refuse(request, _("重点人员由信访工作机构列管。"))
        if form.is_valid():
            d = form.cleaned_data
            case = cases_for(m).filter(number=d["case_number"]).first()
            try:
                if case is None:
                    raise s.Invalid({"case_number": "未找到该信访件，或您无权查看"})
                entry = s.watch_add(
                    by=m,
                    case_id=case.pk,
                    petitioner_id=d["petitioner"],
                    owner_id=d["owner"],
                    reason=d["reason"],
                    plan=d["plan"],
                    status=d["status"],
                )
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已列为重点人员。"))
                return redirect("practices:watch_entry", entry.pk)
    today = timezone.localdate()
    qs = watch_for(m).filter(released_at=None)
    rows = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # The list masks everyone; the entry's page reveals, with a reason, to whom may see.
    listed = [
        {
            "e": e,
            "name": mask_name(e.petitioner.name),
            "late": e.review_due is not None and e.review_due < today,
        }
        for e in rows.object_list
    ]
    return page(
        request,
        "practices/watch.html",
        _ctx(request, "watch", form=form, page_obj=rows, rows=listed),
        status=400 if form is not None and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@practice_page
def watch_entry(request: HttpRequest, pk: int) -> HttpResponse:
    m, access = request.membership, request.access
    entry = watch_for(m).filter(pk=pk).first()
    if entry is None:
        raise Http404(_("未找到该重点人员。"))
    review = f.WatchReviewForm(prefix="r") if access.keeps else None
    release = f.ReasonForm(prefix="x") if access.office and access.keeps else None
    reveal = f.ReasonForm(prefix="v")
    name = mask_name(entry.petitioner.name)
    status = 200
    action = request.POST.get("action")
    if request.method == "POST" and action == "reveal":
        reveal = f.ReasonForm(request.POST, prefix="v")
        if reveal.is_valid():
            if (
                watch_reach(entry, m) is Reach.NONE
                or watch_person(entry, m) != entry.petitioner.name
            ):
                return refuse(request, _("您不能查看这位重点人员的完整身份信息。"))
            audit_record(
                action=REVEAL,
                actor=m.user,
                object_type="petitioner",
                object_id=entry.petitioner_id,
                ip=client_ip(request),
                detail={
                    "watch": entry.pk,
                    "reason": reveal.cleaned_data["reason"],
                    "role": m.role,
                    "unit": m.unit.name,
                },
            )
            name = entry.petitioner.name
    elif request.method == "POST" and action == "review" and review is not None:
        review = f.WatchReviewForm(request.POST, prefix="r")
        if review.is_valid():
            d = review.cleaned_data
            try:
                with form_once(request) as once:
                    s.watch_review(
                        by=m, entry_id=entry.pk, status=d["status"], note=d["note"],
                        plan=d["plan"],
                    )
                    once.answer(reverse("practices:watch_entry", args=[entry.pk]))
            except Repeated as r:  # the same form sent again: one review
                return repeated(request, r)
            except s.Refused as e:
                _errors_into(review, e)
            else:
                messages.success(request, _("已记录复核。"))
                return redirect("practices:watch_entry", entry.pk)
        status = 400
    elif request.method == "POST" and action == "release" and release is not None:
        release = f.ReasonForm(request.POST, prefix="x")
        if release.is_valid():
            try:
                s.watch_release(by=m, entry_id=entry.pk, reason=release.cleaned_data["reason"])
            except s.Refused as e:
                _errors_into(release, e)
            else:
                messages.success(request, _("已撤销列管。"))
                return redirect("practices:watch")
        status = 400
    elif request.method == "POST":
        return refuse(request, _("您不能办理此项。"))
    return page(
        request,
        "practices/watch_entry.html",
        _ctx(
            request,
            "watch",
            entry=entry,
            name=name,
            reviews=entry.reviews.select_related("by"),
            review=review if entry.released_at is None else None,
            release=release if entry.released_at is None else None,
            reveal=reveal,
            late=entry.review_due is not None and entry.review_due < timezone.localdate(),
        ),
        status=status,
    )


# --- duty roster and field visits ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def duty(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    days, poverty_day = duty_days(practices_of(access.home))
    roster = visit_form = None
    if access.office and access.keeps:
        leaders = list(
            Membership.objects.filter(
                is_active=True, role__in=LEADERS, unit__path__under=access.home.path
            )
            .select_related("user")
            .order_by("pk")[:100]
        )
        roster = f.DutyForm(
            request.POST if request.POST.get("action") == "duty" else None,
            prefix="d",
            days=days,
            leaders=leaders,
        )
    if access.keeps:
        within = access.home if access.office else access.unit
        villages = Unit.objects.filter(path__under=within.path, kind=UnitKind.VILLAGE)
        visit_form = f.FieldVisitForm(
            request.POST if request.POST.get("action") == "visit" else None,
            prefix="v",
            villages=villages.order_by("path")[:300],
        )
    failed = False
    if request.method == "POST":
        action = request.POST.get("action")
        form = roster if action == "duty" else visit_form if action == "visit" else None
        if form is None:
            return refuse(request, _("您不能办理此项。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                if action == "duty":
                    s.duty_assign(
                        by=m, weekday=d["weekday"], leader_id=d["leader"], starts_on=d["starts_on"]
                    )
                else:
                    with form_once(request) as once:
                        s.field_visit_record(
                            by=m,
                            village_id=d["village"],
                            visited_on=d["visited_on"],
                            note=d["note"],
                            case_ids=case_ids(m, d["case_numbers"]),
                        )
                        once.answer(reverse("practices:duty"))
            except Repeated as r:  # the same form sent again: one visit recorded
                return repeated(request, r)
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已保存。"))
                return redirect("practices:duty")
        failed = True
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    receptions = duty_receptions(m, access.home, start, start + timedelta(days=7))
    slots = list(duty_slots_for(m))
    visits = with_visible_cases(field_visits_for(m), m)[:PAGE_SIZE]
    return page(
        request,
        "practices/duty.html",
        _ctx(
            request,
            "duty",
            roster_form=roster,
            visit_form=visit_form,
            slots=slots,
            current=[s_ for s_ in slots if s_.ends_on is None],
            weekdays=WEEKDAYS,
            receptions=receptions,
            receptions_html=receptions_html(receptions),
            visits=visits,
            monday=monday,
            poverty_day=WEEKDAYS[poverty_day] if poverty_day is not None else "",
        ),
        status=400 if failed else 200,
    )


def receptions_html(receptions) -> SafeString:
    """The ``<tr>`` of each visit of the week on the duty page (``reading.Reception``): up to
    200 rows, through the template a ``url`` tag, a date filter and three lookups each, were
    24 of the page's 53 ms of CPU at 1M cases (lead46)."""
    url, zone = urls_of("web:case", KEY), timezone.get_current_timezone()
    return mark_safe("".join(
        f'<tr id="reception-{r.case.pk}"><td><a href="{esc(url(r.case.pk))}">'
        f"{esc(r.case.number)}</a></td><td>{r.case.received_at.astimezone(zone):%Y-%m-%d %H:%M}"
        f"</td><td>{esc(r.case.headcount)}</td>\n"
        f'<td class="on-duty">{esc((r.on_duty.user.full_name if r.on_duty else "") or "—")}'
        f'</td><td class="in-person">{esc(r.in_person or "—")}</td></tr>'
        for r in receptions))


# --- persuade-to-return --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def persuades(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    form = f.PersuadeForm(request.POST or None) if access.office and access.keeps else None
    if request.method == "POST":
        if form is None:
            return refuse(request, _("应急劝返由信访工作机构记录。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                ids = case_ids(m, d["case_number"], "case_number")
                row = s.persuade_form(
                    by=m,
                    case_id=ids[0] if ids else None,
                    level=d["level"],
                    place=d["place"],
                    reported_at=d["reported_at"],
                    members=form.members(),
                )
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已成立应急劝返组。"))
                return redirect("practices:persuade", row.pk)
    rows = Paginator(persuades_for(m), PAGE_SIZE).get_page(request.GET.get("page"))
    group = practices_of(access.home).persuade_group
    return page(
        request,
        "practices/persuades.html",
        _ctx(
            request,
            "persuade",
            form=form,
            page_obj=rows,
            group="、".join(MEMBER_LABELS[r] for r in group),
        ),
        status=400 if form is not None and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@practice_page
def persuade(request: HttpRequest, pk: int) -> HttpResponse:
    m, access = request.membership, request.access
    row = persuades_for(m).filter(pk=pk).first()
    if row is None:
        raise Http404(_("未找到该劝返记录。"))
    keeps = access.office and access.keeps
    returned = f.ReturnedForm(prefix="r") if keeps and row.returned_at is None else None
    follow = (
        f.FollowUpForm(prefix="u")
        if keeps and row.returned_at is not None and row.follow_up_at is None
        else None
    )
    failed = False
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "returned" and returned is not None:
                returned = f.ReturnedForm(request.POST, prefix="r")
                if returned.is_valid():
                    s.persuade_returned(by=m, persuade_id=row.pk, **returned.cleaned_data)
                    return redirect("practices:persuade", row.pk)
            elif action == "follow_up" and follow is not None:
                follow = f.FollowUpForm(request.POST, prefix="u")
                if follow.is_valid():
                    s.persuade_follow_up(by=m, persuade_id=row.pk, **follow.cleaned_data)
                    return redirect("practices:persuade", row.pk)
            else:
                return refuse(request, _("您不能办理此项。"))
        except s.Refused as e:
            _errors_into(returned if action == "returned" else follow, e)
        failed = True
    members = [(MEMBER_LABELS.get(x["role"], ""), x["name"]) for x in row.members]
    return page(
        request,
        "practices/persuade.html",
        _ctx(
            request,
            "persuade",
            row=row,
            members=members,
            returned=returned,
            follow=follow,
            late=row.follow_up_at is None
            and row.follow_up_due is not None
            and row.follow_up_due < timezone.now(),
        ),
        status=400 if failed else 200,
    )


# --- campaigns -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_page
def campaigns(request: HttpRequest) -> HttpResponse:
    m, access = request.membership, request.access
    form = None
    if access.office and access.keeps:
        units = Unit.objects.filter(parent=access.home).exclude(kind=UnitKind.DISCIPLINE)
        form = f.CampaignForm(request.POST or None, units=units.order_by("path"))
    if request.method == "POST":
        if form is None:
            return refuse(request, _("专项活动由信访工作机构部署。"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                with form_once(request) as once:
                    row = s.campaign_create(
                        by=m,
                        name=d["name"],
                        goals=d["goals"],
                        starts_on=d["starts_on"],
                        ends_on=d["ends_on"],
                        unit_ids=d["units"],
                        case_ids=case_ids(m, d["case_numbers"]),
                    )
                    once.answer(reverse("practices:campaign", args=[row.pk]))
            except Repeated as r:  # the same form sent again: one campaign
                return repeated(request, r)
            except s.Refused as e:
                _errors_into(form, e)
            else:
                messages.success(request, _("已部署专项活动。"))
                return redirect("practices:campaign", row.pk)
    rows = Paginator(campaigns_for(m).prefetch_related("units"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return page(
        request,
        "practices/campaigns.html",
        _ctx(request, "campaigns", form=form, page_obj=rows),
        status=400 if form is not None and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@practice_page
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    m, access = request.membership, request.access
    row = with_visible_cases(campaigns_for(m).filter(pk=pk), m).first()
    if row is None:
        raise Http404(_("未找到该专项活动。"))
    office = access.office and access.keeps
    units = list(row.units.all())
    task_form = f.TaskForm(prefix="t", units=units) if office else None
    report_form = f.ReportForm(prefix="p") if office else None
    progress_form = f.ProgressForm(prefix="g") if access.keeps else None
    failed = False
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "task" and task_form is not None:
                task_form = f.TaskForm(request.POST, prefix="t", units=units)
                form = task_form
                if task_form.is_valid():
                    d = task_form.cleaned_data
                    with form_once(request) as once:
                        s.campaign_task_add(
                            by=m,
                            campaign_id=row.pk,
                            unit_id=d["unit"],
                            title=d["title"],
                            due_on=d["due_on"],
                        )
                        once.answer(reverse("practices:campaign", args=[row.pk]))
                    return redirect("practices:campaign", row.pk)
            elif action == "report" and report_form is not None:
                report_form = f.ReportForm(request.POST, prefix="p")
                form = report_form
                if report_form.is_valid():
                    s.campaign_report(
                        by=m, campaign_id=row.pk, summary=report_form.cleaned_data["summary"]
                    )
                    return redirect("practices:campaign", row.pk)
            elif action == "progress" and progress_form is not None:
                progress_form = f.ProgressForm(request.POST, prefix="g")
                form = progress_form
                if progress_form.is_valid():
                    d = progress_form.cleaned_data
                    s.campaign_task_progress(
                        by=m, task_id=d["task"], progress=d["progress"], note=d["note"]
                    )
                    return redirect("practices:campaign", row.pk)
            else:
                return refuse(request, _("您不能办理此项。"))
        except Repeated as r:  # the task form sent again: one task
            return repeated(request, r)
        except s.Refused as e:
            _errors_into(form, e)
        failed = True
    return page(
        request,
        "practices/campaign.html",
        _ctx(
            request,
            "campaigns",
            row=row,
            units=units,
            tasks=list(tasks_of(row, m)),
            reports=row.reports.select_related("by"),
            task_form=task_form,
            report_form=report_form,
            progress_form=progress_form,
            findings=row.findings.filter(pk__in=findings_for(m).values("pk")),
            today=timezone.localdate(),
        ),
        status=400 if failed else 200,
    )
