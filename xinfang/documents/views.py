"""Downloads from the case page: a document as DOCX or PDF, and the case file. Views only parse
and answer; the door and the disclosure rule are in ``selectors``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.security.auth import client_ip
from xinfang.web.context import membership_required, page

from .models import Format, Rendition
from .selectors import document_file, filename

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
@require_GET
@membership_required
def download(request: HttpRequest, pk: int, code: str, fmt: str) -> HttpResponse:
    version = request.GET.get("version")
    try:
        row = document_file(by=request.membership, case_id=pk, code=code, fmt=fmt,
                            version=int(version) if version and version.isdigit() else None,
                            via="web", ip=client_ip(request))
    except Case.DoesNotExist:
        raise Http404(_("没有这个信访件，或您无权查看。")) from None
    except Refused as e:
        return page(request, "web/refused.html", {"message": e.message}, status=409)
    if row.status != Rendition.Status.READY:
        message = row.error if row.status == Rendition.Status.FAILED else _(PDF_PENDING)
        response = page(request, "web/refused.html", {"message": message}, status=202)
        response["Refresh"] = "3"
        return response
    return file_response(bytes(row.content), filename(row), row.format)
