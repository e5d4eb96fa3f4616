"""The auditor's page (三员分立): the audit trail, filtered, and a check of its hash chain."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases.paging import CappedPaginator
from xinfang.db.plans import planned_each_time
from xinfang.db.written import Written
from xinfang.jobs.models import Job
from xinfang.org.choices import Role
from xinfang.org.models import Membership

from ..context import page, role_required
from ..forms.admin import ACTION_LABELS, AuditFilterForm
from ..present import audit_detail, audit_listed, audit_object, audit_rows_html
from .admin import PAGE_SIZE

# -- the audit trail (auditor) -------------------------------------------------------------------

VERIFY_JOB = "audit_verify"  # the background check (settings.XINFANG_JOBS)


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@require_GET
@role_required(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    from xinfang.audit.checkpoints import checkpoint_verify
    from xinfang.audit.models import AuditEntry
    from xinfang.audit.selectors import by_actor, listed
    from xinfang.audit.services import audit_verify

    form = AuditFilterForm(request.GET or None)
    qs = AuditEntry.objects.order_by("-id")
    narrowed = False  # by a typed value: planned for it (below)
    if form.is_valid():
        d = form.cleaned_data
        if d["action"]:
            # written into the statement (one of the form's few codes): reads are nearly all
            # of the trail and exports a few hundred of two million entries, and the plan made
            # for a bound action walked the whole trail newest first for fifty exports (366 ms
            # at two million entries; lead49)
            qs = qs.filter(Written(F("action"), (d["action"],)))
        if d["actor"]:
            qs = by_actor(qs, d["actor"])
        if d["object_type"]:
            qs = qs.filter(object_type=d["object_type"])
        if d["at_from"]:
            qs = qs.filter(at__gte=_day_start(d["at_from"]))
        if d["at_to"]:
            qs = qs.filter(at__lt=_day_start(d["at_to"] + timedelta(days=1)))
        narrowed = any(d[name] for name in ("actor", "object_type", "at_from", "at_to"))
    elif form.is_bound:
        qs = qs.none()
    kept = request.GET.copy()
    kept.pop("page", None)
    kept.pop("verify", None)
    verified = against = None
    too_long = False
    if request.GET.get("verify") == "1":
        # Checked while the auditor waits up to a bound of entries; a longer trail by the
        # background job (校验审计链): a year's trail of a province is millions of entries,
        # minutes of MACs (lead50).
        wait = settings.XINFANG_AUDIT_VERIFY_WAIT
        too_long = AuditEntry.objects.order_by()[: wait + 1].count() > wait
        if not too_long:
            verified = audit_verify()
            # The head against the checkpoints kept outside the database (a cut-off tail);
            # the full history check reads every event and is left to `xinfang audit verify`.
            against = checkpoint_verify()
    last_check = (Job.objects.filter(user=request.user, kind=VERIFY_JOB)
                  .only("pk", "status", "created_at", "finished_at", "message", "error", "done",
                        "total")
                  .order_by("-pk").first())
    qs = listed(qs)  # an entry's brief, not a detail of megabytes
    # Counted to ``COUNT_CAP`` ("10000+"), as the ledger is: every case read appends an entry,
    # and counting two million for the pager took 108 ms a page (lead49). Past the cap the
    # auditor narrows the trail by time, action or actor.
    # A typed filter is planned for its value (``planned_each_time``): how rare an object type,
    # an actor or a span of days is decides the plan, and the prepared statement's generic plan
    # walked the whole trail newest first for fifty of a rare type (0.6 ms planned for it, 382
    # at two million entries; lead49).
    with planned_each_time() if narrowed else nullcontext():
        page_obj = CappedPaginator(qs, PAGE_SIZE, planned=narrowed).get_page(
            request.GET.get("page"))
        rows = [(e, audit_object(e.object_type, e.object_id), *audit_listed(e))
                for e in page_obj.object_list]
    return page(
        request,
        "web/audit_log.html",
        {
            "form": form,
            "page_obj": page_obj,
            "rows_html": audit_rows_html(rows, ACTION_LABELS),
            "extra": kept.urlencode(),
            "verified": verified,
            "checkpoints": against,
            "too_long": too_long,
            "verify_wait": settings.XINFANG_AUDIT_VERIFY_WAIT,
            "last_check": last_check,
            "verify_url": reverse("web:audit_log")
            + "?"
            + (kept.urlencode() + "&" if kept else "")
            + "verify=1",
        },
    )


@require_POST
@role_required(Role.AUDITOR)
def audit_verify_start(request: HttpRequest) -> HttpResponse:
    """Start the background check of the chain (``jobs.kinds.audit_verify``); the trail's page
    shows how far it is and, when done, what it found. The jobs' own pages are the case
    workers' (三员分立), so the auditor follows it here."""
    from xinfang.jobs.services import job_start

    # a second click, a retried post: the check already queued or running is the one to wait
    # for (each reads the whole trail, minutes at a province's size). Two posts at once are
    # taken in turn: the test and the start hold the auditor's membership row.
    with transaction.atomic():
        Membership.objects.select_for_update().get(pk=request.membership.pk)
        waiting = Job.objects.filter(user=request.user, kind=VERIFY_JOB,
                                     finished_at__isnull=True).exists()
        if not waiting:
            job_start(kind=VERIFY_JOB, by=request.membership)
    if waiting:
        messages.info(request, _("已有一次后台校验尚未完成；完成前刷新本页可看进度。"))
    else:
        messages.success(request, _("已开始后台校验审计链；完成前刷新本页可看进度。"))
    return redirect("web:audit_log")


@never_cache
@require_GET
@role_required(Role.AUDITOR)
def audit_verify_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The report a finished background check kept (the chain's result, the newest entry's
    MAC, the checkpoints'), for the auditor who started it; anyone else's is a 404."""
    from xinfang.jobs.selectors import job_for
    from xinfang.jobs.views import file_response

    try:
        job = job_for(request.user, pk, with_file=True)
    except Job.DoesNotExist:
        raise Http404(_("没有这次校验。")) from None
    if job.kind != VERIFY_JOB:
        raise Http404(_("没有这次校验。"))
    return file_response(job, request)


@require_GET
@role_required(Role.AUDITOR)
def audit_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry of the trail with its whole detail: the auditor's page shows a long list (an
    export's case numbers) as its first twenty and links here."""
    from xinfang.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404(_("没有这条审计记录。"))
    return page(request, "web/audit_entry.html", {
        "e": entry, "target": audit_object(entry.object_type, entry.object_id),
        "label": ACTION_LABELS.get(entry.action) or entry.action,
        "lines": audit_detail(entry.detail, shown=None),
    })
