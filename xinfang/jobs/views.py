"""Pages of background work: my jobs (progress polled with HTMX while any runs), one job, its file,
and the start form the ledger and case pages post to. Only the person who started a job sees it
(``selectors.job_for``); anyone else gets the same 404 as for a job that does not exist."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases.errors import Refused
from xinfang.security.auth import client_ip
from xinfang.web.context import membership_required, page, refuse

from .models import Job
from .registry import INTERNAL_KINDS, kinds
from .selectors import file_withheld, job_for, jobs_recent
from .services import job_start

RECENT = 50


def _job(request: HttpRequest, pk: int, *, with_file: bool = False) -> Job:
    try:
        return job_for(request.user, pk, with_file=with_file)
    except Job.DoesNotExist:
        raise Http404(_("没有这个任务，或不是您发起的。")) from None


@never_cache
@require_GET
@membership_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = jobs_recent(request.user, RECENT)
    context = {"jobs": jobs, "running": any(not j.finished for j in jobs)}
    if request.headers.get("HX-Request"):
        return render(request, "jobs/partials/job_rows.html", context)
    return page(request, "jobs/list.html", context)


@never_cache
@require_GET
@membership_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    done = job.status == Job.Status.DONE and job.filename
    context = {"job": job, "withheld": file_withheld(job, each_case=False) if done else ""}
    if request.headers.get("HX-Request"):
        return render(request, "jobs/partials/job_status.html", context)
    return page(request, "jobs/detail.html", context)


@never_cache
@require_GET
@membership_required
def job_file(request: HttpRequest, pk: int) -> HttpResponse:
    return file_response(_job(request, pk, with_file=True), request)


def file_response(job: Job, request: HttpRequest) -> HttpResponse:
    """The file a finished job made, as a download never cached; 404 where it made none, 410
    where it is past its keeping or the user's rights narrowed since (``file_withheld``; also
    the auditor's check report, ``web.views.audit``)."""
    withheld = file_withheld(job) if job.status == Job.Status.DONE and job.filename else ""
    if withheld:
        return refuse(request, withheld, status=410)
    if job.status != Job.Status.DONE or job.content is None:
        raise Http404(_("该任务没有可下载的文件。"))
    return download(job)


def download(job: Job) -> HttpResponse:
    """The job's file as a download never cached (the pages and the API)."""
    response = HttpResponse(bytes(job.content), content_type=job.content_type)
    response["Content-Disposition"] = content_disposition_header(True, job.filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def start_params(kind: str, data, request: HttpRequest) -> dict:
    """The parameters a start form may give a job of ``kind`` (nothing else is passed on)."""
    if kind in ("ledger_l0", "ledger_l4"):
        return {
            "filters": str(data.get("filters", ""))[:4000],
            "unmasked": str(data.get("unmasked", "")).lower() in {"1", "true", "on", "yes"},
            "reason": str(data.get("reason", ""))[:200],
            "ip": client_ip(request),
            "via": "web-job",
        }
    if kind == "ledger_register":
        return {
            "code": str(data.get("code", ""))[:2],
            "filters": str(data.get("filters", ""))[:4000],
            "unmasked": str(data.get("unmasked", "")).lower() in {"1", "true", "on", "yes"},
            "reason": str(data.get("reason", ""))[:200],
            "via": "web-job",
        }
    if kind == "archive":
        return {"case_id": str(data.get("case_id", "")), "pdf": bool(data.get("pdf"))}
    return {k: str(v)[:4000] for k, v in data.items() if k not in {"kind", "csrfmiddlewaretoken"}}


@require_POST
@membership_required
def job_new(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in kinds() or kind in INTERNAL_KINDS:
        messages.error(request, _("没有这种后台任务。"))
        return redirect("jobs:list")
    try:
        job = job_start(
            kind=kind, by=request.membership, params=start_params(kind, request.POST, request)
        )
    except Refused as e:
        messages.error(request, e.message)
        return redirect("jobs:list")
    done = _("已提交后台任务“%(label)s”，完成后可在此下载。") % {"label": job.label}
    messages.success(request, done)
    return redirect("jobs:detail", pk=job.pk)
