"""The import pages: upload → preview (what would be created, every error) → confirm. The unit
tree is the system administrator's; a ledger is its office clerk's."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.jobs.services import job_start
from xinfang.org.choices import Role
from xinfang.security.auth import client_ip
from xinfang.security.masking import mask_name, mask_phone
from xinfang.web.context import membership_required, page, refuse, role_required

from .models import ImportBatch
from .services import ImportRefused, import_jurisdiction, ledger_import, ledger_read
from .sheets import FileUnreadable
from .units import UnitsRefused, units_import
from .uploads import UploadRefused, upload_for, upload_hold, upload_queued

PREVIEW_ROWS = 500  # rows shown in the preview table; every error is always listed


class UploadForm(forms.Form):
    file = forms.FileField(label="文件（.xlsx 或 .csv）")


def _upload(request, kind: str):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            batch = upload_hold(by=request.membership, kind=kind, filename=f.name, content=f.read())
        except UploadRefused as e:
            form.add_error("file", str(e))
        else:
            return form, batch
    return form, None


# -- units (system administrator) -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def units_upload(request: HttpRequest) -> HttpResponse:
    form, batch = _upload(request, ImportBatch.Kind.UNITS)
    if batch:
        return redirect("imports:units_preview", pk=batch.pk)
    return page(request, "imports/units_upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def units_preview(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        batch, content = upload_for(by=request.membership, pk=pk, kind=ImportBatch.Kind.UNITS)
    except UploadRefused as e:
        return refuse(request, str(e), status=404)
    confirm = request.method == "POST"
    try:
        outcome = units_import(
            content=content,
            filename=batch.filename,
            by=request.membership,
            dry_run=not confirm,
            ip=client_ip(request),
            held=batch,
        )
    except UnitsRefused as e:
        return refuse(request, str(e))
    except UploadRefused as e:  # the same confirmation, sent twice at once
        return refuse(request, str(e), status=409)
    if confirm and outcome.ok:
        messages.success(request, f"已导入单位：新建 {len(outcome.created)} 个。")
        return redirect("web:admin_units")
    return page(
        request,
        "imports/units_preview.html",
        {"batch": batch, "outcome": outcome, "confirmed": confirm},
    )


# -- ledgers (the office's clerk) ------------------------------------------------------------------


def _clerk_door(request):
    try:
        return import_jurisdiction(request.membership), None
    except ImportRefused as e:
        return None, refuse(request, str(e))


@require_http_methods(["GET", "POST"])
@membership_required
def ledger_upload(request: HttpRequest) -> HttpResponse:
    jurisdiction, refused = _clerk_door(request)
    if refused:
        return refused
    form, batch = _upload(request, ImportBatch.Kind.LEDGER)
    if batch:
        return redirect("imports:ledger_preview", pk=batch.pk)
    recent = ImportBatch.objects.filter(
        kind=ImportBatch.Kind.LEDGER, unit=jurisdiction, status=ImportBatch.Status.DONE
    )[:10]
    return page(
        request,
        "imports/ledger_upload.html",
        {"form": form, "jurisdiction": jurisdiction, "recent": recent},
    )


@require_http_methods(["GET"])
@membership_required
def ledger_preview(request: HttpRequest, pk: int) -> HttpResponse:
    jurisdiction, refused = _clerk_door(request)
    if refused:
        return refused
    try:
        batch, content = upload_for(by=request.membership, pk=pk, kind=ImportBatch.Kind.LEDGER)
    except UploadRefused as e:
        return refuse(request, str(e), status=404)
    outcome = ledger_import(
        by=request.membership,
        content=content,
        filename=batch.filename,
        dry_run=True,
        skip_invalid=False,
    )
    rows = [_preview_row(r) for r in outcome.reading.rows[:PREVIEW_ROWS]]
    return page(
        request,
        "imports/ledger_preview.html",
        {
            "batch": batch,
            "outcome": outcome,
            "rows": rows,
            "jurisdiction": jurisdiction,
            "more": max(len(outcome.reading.rows) - PREVIEW_ROWS, 0),
            "good": sum(1 for r in outcome.reading.rows if r.status == "new"),
        },
    )


def _preview_row(row) -> dict:
    v = row.values
    when = v.get("assigned_on") or v.get("screened_on") or v.get("first_visit")
    place = v.get("township_unit")
    return {
        "sheet": row.sheet,
        "row": row.row,
        "ledger": row.layout.code,
        "status": row.status,
        # The office's clerk may see identities, but a preview is a list on a screen: masked.
        "name": mask_name(v.get("name") or ""),
        "phone": mask_phone(v.get("phone") or ""),
        "when": when,
        "category": v.get("category") or "",
        "problem": v.get("problem") or "",
        "place": "".join(u.name for u in (place, v.get("village_unit")) if u),
        "closed": v.get("closed_on"),
        "note": row.note,
        "issues": [
            f"{i.column}列（{i.title}）：{i.reason}" if i.column else i.reason for i in row.issues
        ],
    }


@require_POST
@membership_required
def ledger_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _jurisdiction, refused = _clerk_door(request)
    if refused:
        return refused
    try:
        batch, content = upload_for(by=request.membership, pk=pk, kind=ImportBatch.Kind.LEDGER)
    except UploadRefused as e:
        return refuse(request, str(e), status=404)
    skip = request.POST.get("skip_invalid") == "1"
    try:
        reading = ledger_read(by=request.membership, content=content, filename=batch.filename)
    except FileUnreadable:
        reading = None  # the import says why, as it always has
    if reading is not None and len(reading.rows) > settings.XINFANG_IMPORT_WAIT_ROWS:
        # Too long to wait on (at 1M cases 12–30 ms a row): the worker imports it, and its
        # job page shows how far it is and the result.
        try:
            job, started = upload_queued(batch, kind="ledger_import", start=lambda: job_start(
                kind="ledger_import", by=request.membership,
                params={"batch": batch.pk, "skip_invalid": skip, "ip": client_ip(request)},
                label=f"导入台账“{batch.filename}”",
            ))  # fmt: skip
        except UploadRefused as e:  # imported meanwhile by the job a first confirmation queued
            return refuse(request, str(e), status=409)
        messages.info(request, (
            f"“{batch.filename}”共 {len(reading.rows)} 行，已转入后台导入：进度和结果见本页。"
            if started else f"“{batch.filename}”已在后台导入，未再次导入：进度和结果见本页。"
        ))  # fmt: skip
        return redirect("jobs:detail", pk=job.pk)
    try:
        outcome = ledger_import(
            by=request.membership,
            content=content,
            filename=batch.filename,
            dry_run=False,
            skip_invalid=skip,
            batch=batch,
            ip=client_ip(request),
            reading=reading,
        )
    except ImportRefused as e:  # the same confirmation, sent twice at once
        return refuse(request, str(e), status=409)
    if outcome.committed:
        n = outcome.count
        messages.success(
            request,
            f"已导入“{batch.filename}”：新建 {n('created')} 条，此前已导入 "
            f"{n('exists')} 条，跳过有误 {len(outcome.bad_rows)} 行。",
        )
    else:
        messages.error(
            request, f"“{batch.filename}”有 {len(outcome.issues)} 处错误，未导入任何一行。"
        )
    return redirect("imports:ledger_upload")
