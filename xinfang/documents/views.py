"""Downloads from the case page: a document as DOCX or PDF, and the case file. Views only parse
and answer; the door and the disclosure rule are in ``selectors``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from xinfang.api.membership import parse_id
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for
from xinfang.org.choices import Role
from xinfang.security.auth import client_ip
from xinfang.web.context import membership_required, page, role_required

from .instruments import INSTRUMENTS, TEMPLATE_FIELDS
from .models import DocumentTemplate, Format, Rendition
from .selectors import DocumentNotIssued, document_file, filename
from .services import document_issue_requested, template_replace


def template_titles() -> dict[str, str]:
    titles: dict[str, list[str]] = {}
    for spec in INSTRUMENTS.values():
        titles.setdefault(spec.template, []).append(spec.title)
    return {code: "、".join(names) for code, names in sorted(titles.items())}


CONTENT_TYPES = {
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.PDF: "application/pdf",
    "zip": "application/zip",
}
PDF_PENDING = "PDF 生成中，请稍后刷新本页再下载；DOCX 已可下载。"


def file_response(data: bytes, name: str, kind: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@membership_required
def download(request: HttpRequest, pk: int, code: str, fmt: str) -> HttpResponse:
    """GET: the file, never issuing it. POST: issue it now (the 出具 button, for an instrument
    the step's task has not frozen yet), then download it."""
    if request.method == "POST":
        return _issue(request, pk, code, fmt)
    raw = (request.GET.get("version") or "").strip()
    version = parse_id(raw) if raw else None
    if raw and version is None:  # not the latest instead: the link asked for another
        message = _("没有这个版本：版本须为正整数，不是“%(raw)s”。") % {"raw": raw}
        return page(request, "web/refused.html", {"message": message}, status=400)
    try:
        row = document_file(
            by=request.membership,
            case_id=pk,
            code=code,
            fmt=fmt,
            version=version,
            via="web",
            ip=client_ip(request),
        )
    except Case.DoesNotExist:
        raise Http404(_("没有这个信访件，或您无权查看。")) from None
    except DocumentNotIssued as e:  # the button that issues it, not a freeze on this GET
        return page(request, "documents/not_issued.html", {"message": e.message}, status=409)
    except Refused as e:
        return page(request, "web/refused.html", {"message": e.message}, status=409)
    if row.status != Rendition.Status.READY:
        message = row.error if row.status == Rendition.Status.FAILED else _(PDF_PENDING)
        response = page(request, "web/refused.html", {"message": message}, status=202)
        response["Refresh"] = "3"
        return response
    return file_response(bytes(row.content), filename(row), row.format)


def _issue(request: HttpRequest, pk: int, code: str, fmt: str) -> HttpResponse:
    try:
        case = case_for(request.membership, pk)
    except Case.DoesNotExist:
        raise Http404(_("没有这个信访件，或您无权查看。")) from None
    if fmt not in Format.values:
        raise Http404(_("没有这种格式。"))
    try:
        doc, _made = document_issue_requested(case=case, code=code, by=request.membership)
    except Refused as e:
        return page(request, "web/refused.html", {"message": e.message}, status=409)
    # The file itself, by its GET: the page the button was on stays where it was.
    return redirect("documents:download", pk=case.pk, code=doc.code, fmt=fmt)


# -- the system administrator's template page ------------------------------------------------------


class TemplateUploadForm(forms.Form):
    code = forms.ChoiceField(label=_l("文书模板"), choices=())
    file = forms.FileField(label=_l("DOCX 模板文件"))
    note = forms.CharField(label=_l("说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [
            (code, f"{code} {titles}") for code, titles in template_titles().items()
        ]


MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@require_http_methods(["GET", "POST"])
@role_required(Role.SYSADMIN)
def templates_page(request: HttpRequest) -> HttpResponse:
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_TEMPLATE_BYTES:
            form.add_error("file", _("模板文件不能超过 5 MB。"))
        else:
            try:
                row = template_replace(
                    code=form.cleaned_data["code"],
                    content=upload.read(),
                    by=request.membership,
                    original_name=upload.name,
                    note=form.cleaned_data["note"],
                )
            except Refused as e:
                form.add_error("file", e.message)
            else:
                messages.success(
                    request,
                    _("模板 %(code)s 第 %(v)s 版已启用。") % {"code": row.code, "v": row.version},
                )
                return redirect("documents:templates")
    rows = []
    for code, titles in template_titles().items():
        versions = list(
            DocumentTemplate.objects.filter(code=code)
            .defer("content")
            .select_related("uploaded_by")
            .order_by("-version")
        )
        rows.append(
            {
                "code": code,
                "titles": titles,
                "versions": versions,
                "fields": sorted(TEMPLATE_FIELDS[code]),
            }
        )
    return page(
        request,
        "documents/templates.html",
        {"form": form, "rows": rows},
        status=400 if form.errors else 200,
    )


@never_cache
@require_GET
@membership_required
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    """The case file (一案一档) for whoever may see the case, in their disclosure's copy."""
    from xinfang.audit.services import EXPORT, audit_record

    from .archive import archive_build

    try:
        case = case_for(request.membership, pk)
    except Case.DoesNotExist:
        raise Http404(_("没有这个信访件，或您无权查看。")) from None
    try:
        data = archive_build(case=case, by=request.membership)
    except Refused as e:
        return page(request, "web/refused.html", {"message": e.message}, status=409)
    audit_record(
        action=EXPORT,
        actor=request.membership,
        object_type="case",
        object_id=case.pk,
        ip=client_ip(request),
        detail={"archive": True, "size": len(data)},
    )
    return file_response(data, f"{case.number}-案卷.zip", "zip")
