"""工作移交: the petition office moves all the open work of one unit to another (乡镇撤并), each
case through the ``reassign`` transition (``cases.services.handover``). Sent again, it moves only
what has not moved; what cannot move is listed with its case number and why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.cases.services.base import is_office_at
from xinfang.cases.services.handover import unit_hand_over, unit_open_cases, unit_open_count
from xinfang.org.choices import Level, Role
from xinfang.org.models import Membership, Unit

from ..context import jurisdiction_of, membership_required, page, refuse
from ..forms.common import ModelChoice, PlainForm, text

HANDS_OVER = (Role.CLERK, Role.APPROVER)
HANDOVER_JOB = "handover"  # the background hand-over (settings.XINFANG_JOBS)
SHOWN = 200  # open cases listed before the hand-over; the rest counted


class HandOverForm(PlainForm):
    old = ModelChoice(label=gettext_lazy("移交单位"), queryset=Unit.objects.none(),
                      help_text=gettext_lazy("其在办信访件（主办、协办）全部改派。"))
    new = ModelChoice(label=gettext_lazy("接收单位"), queryset=Unit.objects.none())
    reason = text(gettext_lazy("移交理由"), rows=2,
                  help_text=gettext_lazy("如：乡镇撤并，某某镇并入某某镇。"))
    receiver_name = text(gettext_lazy("接收人"), max_length=50)

    def __init__(self, *args, home: Unit, **kw):
        super().__init__(*args, **kw)
        units = (Unit.objects.filter(path__under=home.path).exclude(pk=home.pk)
                 .exclude(level=Level.VILLAGE).order_by("path"))
        # a switched-off unit may still hold work to hand over; only an active one receives it
        self.fields["old"].queryset = units
        self.fields["new"].queryset = units.filter(is_active=True)


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def handover(request: HttpRequest) -> HttpResponse:
    m = request.membership
    home = jurisdiction_of(m)
    if m.role not in HANDS_OVER or home is None or not is_office_at(m.unit, home):
        return refuse(request, _("工作移交由受理机关的经办人或分管领导办理。"))
    result = None
    if request.method == "POST":
        form = HandOverForm(request.POST, home=home)
        if form.is_valid():
            d = form.cleaned_data
            try:
                if unit_open_count(by=m, unit=d["old"]) > settings.XINFANG_HANDOVER_WAIT:
                    return _in_background(request, d)
                result = unit_hand_over(by=m, old=d["old"], new=d["new"], reason=d["reason"],
                                        receiver_name=d["receiver_name"])
            except Refused as e:
                form.add_error(e.field if e.field in form.fields else None, e.message)
    else:
        form = HandOverForm(home=home, initial={"old": request.GET.get("old")})
    old = form.cleaned_data.get("old") if form.is_bound and form.is_valid() else None
    if old is None and not form.is_bound and request.GET.get("old", "").isdigit():
        old = form.fields["old"].queryset.filter(pk=request.GET["old"]).first()
    waiting = ([(case.number, c.State(case.state).label, case.pk)
                for case in unit_open_cases(by=m, unit=old).only("number", "state")[:SHOWN]]
               if old is not None else [])
    more = (unit_open_count(by=m, unit=old) - SHOWN
            if old is not None and len(waiting) == SHOWN else 0)
    return page(request, "web/handover.html", {
        "form": form, "result": result, "old": old, "waiting": waiting, "more": more,
        "here": "handover", "registers": True, "wait": settings.XINFANG_HANDOVER_WAIT,
    }, status=422 if form.is_bound and form.errors else 200)


def _in_background(request: HttpRequest, d: dict) -> HttpResponse:
    """More open cases than the page moves while one waits: the same hand-over as a job
    (``jobs.kinds.handover``), followed on the job's page. A second post while one is queued
    or running for the same unit is sent to that one (each would try every case)."""
    from xinfang.jobs.models import Job
    from xinfang.jobs.services import job_start

    with transaction.atomic():
        # two posts at once are taken in turn: the test and the start hold the membership row
        Membership.objects.select_for_update().get(pk=request.membership.pk)
        job = (Job.objects.filter(kind=HANDOVER_JOB, finished_at__isnull=True,
                                  params__old=d["old"].pk).order_by("pk").first())
        if job is None:
            job = job_start(kind=HANDOVER_JOB, by=request.membership, params={
                "old": d["old"].pk, "new": d["new"].pk, "reason": d["reason"],
                "receiver_name": d["receiver_name"]})
            messages.success(request, _("在办信访件较多，已转为后台逐件改派；本页可看进度和结果。"))
        else:
            messages.info(request, _("该单位的工作移交已在后台进行，本页可看进度和结果。"))
    if job.user_id != request.user.pk:
        return redirect("web:handover")
    return redirect("jobs:detail", job.pk)
