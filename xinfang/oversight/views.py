"""Pages of the supervisor's practices. Views parse and call ``services``; reads come from
``selectors`` (through the permission door). One page (/oversight/) shows what the membership
must act on: the office and inspectors their orders, bulletins, reviews and verifications; a unit
the orders and rectifications addressed to it; a proxy agent its work list."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for
from xinfang.cases.services.base import Invalid
from xinfang.org.choices import Role
from xinfang.org.models import Membership, Unit
from xinfang.rules.store import profile_of
from xinfang.security.once import Repeated, form_once, repeated
from xinfang.web.context import membership_required, page, refuse

from . import selectors as sel
from . import services as svc
from .forms import (
    AnswerForm,
    BulletinForm,
    OrderForm,
    ProxyForm,
    ReviewForm,
    StepForm,
    VerifyForm,
)
from .models import ProxyHandling

LIST = sel.LIST_SIZE


def _errors(form, e: Refused) -> None:
    if isinstance(e, Invalid):
        for name, msg in e.errors.items():
            form.add_error(name if name in form.fields else None, msg)
    else:
        form.add_error(None, e.message)


def _case(request, pk: int) -> Case:
    try:
        return case_for(request.membership, pk)
    except Case.DoesNotExist as e:
        raise Http404 from e


@membership_required
def index(request: HttpRequest) -> HttpResponse:
    m = request.membership
    now = timezone.now()
    office = sel.is_office(m)
    ctx = {"office": office, "now": now, "is_proxy": m.role == Role.PROXY_AGENT}
    if office:
        orders = sel.orders_page(sel.orders_for(m))
        ctx.update(
            orders=[(o, o.status(now)) for o in orders],
            bulletins=list(sel.bulletins_for(m)[:10]),
            to_review=list(sel.to_review(m)[:LIST]),
            owed=list(sel.verifications_owed(m)[:LIST]),
            proxies=sel.proxies_in(m),
            order_form=OrderForm(units=_units(m)),
        )
    else:
        ctx.update(
            to_answer=[(o, o.status(now)) for o in sel.orders_page(sel.orders_to_answer(m))],
            rectifications=list(sel.rectifications_for(m).filter(answered_at=None)[:LIST]),
            bulletins=list(sel.bulletins_for(m)[:10]),
        )
    if m.role == Role.PROXY_AGENT:
        ctx["work"] = list(sel.proxy_work_list(m)[:LIST])
    return page(request, "oversight/index.html", ctx)


def _units(m: Membership):
    home = sel.home_of(m)
    if home is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__under=home.path).order_by("path")


@membership_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    m = request.membership
    if m.role not in svc.ISSUERS:
        return refuse(request, "只有督查人员和信访工作机构可以下发督办单。")
    case = _case(request, int(request.GET["case"])) if request.GET.get("case") else None
    form = OrderForm(request.POST or None, units=_units(m))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with form_once(request) as once:
                order = svc.order_issue(by=m, case=case, unit=d["unit"], matter=d["matter"],
                                        due_on=d["due_on"])
                once.answer(reverse("oversight:order", args=[order.pk]))
        except Repeated as r:  # the same form sent again: one order
            return repeated(request, r)
        except Refused as e:
            _errors(form, e)
        else:
            messages.success(request, "督办单已下发。")
            return redirect("oversight:order", pk=order.pk)
    return page(request, "oversight/form.html", {
        "title": "下发督办单", "form": form, "case": case, "once": True},
        status=400 if form.errors else 200)


@membership_required
@require_http_methods(["GET", "POST"])
def order_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    try:
        order = sel.order_for(m, pk)
    except Exception as e:  # noqa: BLE001 — not visible is not found
        raise Http404 from e
    may_answer = order.answered_at is None and m.unit.is_within(order.unit)
    form = AnswerForm(request.POST or None) if may_answer else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            svc.order_answer(by=m, order=order, answer=form.cleaned_data["answer"])
        except Refused as e:
            _errors(form, e)
        else:
            messages.success(request, "已答复督办单。")
            return redirect("oversight:order", pk=pk)
    return page(request, "oversight/order.html", {
        "order": order, "status": order.status(timezone.now()), "form": form})


@membership_required
@require_http_methods(["GET", "POST"])
def bulletin_new(request: HttpRequest) -> HttpResponse:
    m = request.membership
    if m.role not in svc.ISSUERS:
        return refuse(request, "只有督查人员和信访工作机构可以下发督查通报。")
    form = BulletinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with form_once(request) as once:
                b = svc.bulletin_issue(by=m, **form.cleaned_data)
                once.answer(reverse("oversight:bulletin", args=[b.pk]))
        except Repeated as r:  # the same form sent again: one bulletin
            return repeated(request, r)
        except Refused as e:
            _errors(form, e)
        else:
            return redirect("oversight:bulletin", pk=b.pk)
    return page(request, "oversight/form.html", {"title": "下发督查通报", "form": form,
                                                 "once": True},
                status=400 if form.errors else 200)


@membership_required
def bulletin_page(request: HttpRequest, pk: int) -> HttpResponse:
    b = sel.bulletins_for(request.membership).filter(pk=pk).first()
    if b is None:
        raise Http404
    return page(request, "oversight/bulletin.html", {"b": b})


@membership_required
@require_http_methods(["GET", "POST"])
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    case = _case(request, pk)
    rule = svc.review_rule(case)
    reviews = sel.reviews_of(case)
    form = None
    if rule is not None and sel.is_office(m) and not any(r.passed for r in reviews):
        form = ReviewForm(request.POST or None, points=rule.points)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            svc.review_record(by=m, case=case, results=form.results(),
                              rectify_by=form.cleaned_data.get("rectify_by"))
        except Refused as e:
            _errors(form, e)
        else:
            messages.success(request, "审核结果已记录。")
            return redirect("oversight:review", pk=pk)
    return page(request, "oversight/review.html", {
        "case": case, "rule": rule, "reviews": reviews, "form": form},
        status=400 if form is not None and form.errors else 200)


@membership_required
@require_http_methods(["GET", "POST"])
def rectification_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    r = sel.rectifications_for(m).filter(pk=pk).first()
    if r is None:
        raise Http404
    form = None
    if r.answered_at is None and m.unit.is_within(r.unit):
        form = AnswerForm(request.POST or None)
        form.fields["answer"].label = "整改情况"
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            svc.rectification_answer(by=m, rectification=r, answer=form.cleaned_data["answer"])
        except Refused as e:
            _errors(form, e)
        else:
            messages.success(request, "整改情况已报告。")
            return redirect("oversight:rectification", pk=pk)
    return page(request, "oversight/rectification.html", {"r": r, "form": form,
                                                           "now": timezone.now()})


@membership_required
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    case = _case(request, pk)
    rule = profile_of(case.profile).oversight.verification
    form = None
    if rule is not None and m.role in svc.ISSUERS:
        methods = [(k, svc.VERIFY_LABELS[k]) for k in rule.methods]
        form = VerifyForm(request.POST or None, methods=methods)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            svc.verification_record(by=m, case=case, **form.cleaned_data)
        except Refused as e:
            _errors(form, e)
        else:
            messages.success(request, "核查意见已记录。")
            return redirect("oversight:verify", pk=pk)
    return page(request, "oversight/form.html", {
        "title": "核查报结情况", "form": form, "case": case,
        "absent": "本地规则未要求上级核查报结情况。" if rule is None else "",
        "verifications": list(case.verifications.select_related("by", "unit"))},
        status=400 if form is not None and form.errors else 200)


@membership_required
@require_http_methods(["GET", "POST"])
def proxy_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = request.membership
    case = _case(request, pk)
    rule = svc.proxy_rule(case)
    if rule is None:
        return page(request, "oversight/proxy.html", {
            "case": case, "absent": "本地规则未建立信访代办制度。"})
    proxy = ProxyHandling.objects.filter(case=case).select_related(
        "agent", "agent_unit").first()
    if m.role == Role.PROXY_AGENT:
        agents = [(m.pk, m.user.full_name or m.user.username)]
    else:
        agents = [(a.pk, f"{a.user.full_name}（{a.unit.name}）") for a in Membership.objects.filter(
            role=Role.PROXY_AGENT, is_active=True, unit__path__under=case.jurisdiction.path
        ).select_related("user", "unit")]
    may_take = m.role == Role.PROXY_AGENT or m.role in svc.PROXY_ASSIGNERS
    form = (ProxyForm(request.POST or None, agents=agents, helps=rule.helps)
            if not proxy and may_take else None)
    step = None
    if proxy and proxy.agent_id == m.user_id:
        step = StepForm(request.POST or None, helps=proxy.helps)
    if request.method == "POST":
        try:
            if form is not None and form.is_valid():
                agent = Membership.objects.select_related("user", "unit").get(
                    pk=form.cleaned_data["agent"])
                svc.proxy_take(by=m, case=case, agent=agent, helps=form.cleaned_data["helps"],
                               note=form.cleaned_data["note"])
                return redirect("oversight:proxy", pk=pk)
            if step is not None and step.is_valid():
                svc.proxy_step_record(by=m, case=case, **step.cleaned_data)
                messages.success(request, "代办情况已记录。")
                return redirect("oversight:proxy", pk=pk)
        except Refused as e:
            _errors(form or step, e)
    steps = list(case.events.filter(type__in=["proxy_taken", "proxy_step"])
                 .select_related("actor").order_by("seq"))
    return page(request, "oversight/proxy.html", {
        "case": case, "proxy": proxy, "form": form, "step": step, "steps": steps})
