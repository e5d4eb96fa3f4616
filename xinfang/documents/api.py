"""``/api/cases/{id}/documents/…``: the list of a case's instruments, a file (DOCX or PDF), and a
correction. Same door, status codes and errors as the case API (``xinfang/api/views.py``)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from xinfang.api.errors import Problem, problem
from xinfang.api.membership import acting_membership, parse_id
from xinfang.api.replay import REPLAY_ERRORS, REPLAY_PARAM, replayable
from xinfang.api.views import COMMON_ERRORS, MEMBERSHIP_PARAM, CaseView, JSONErrorsOnly, refused
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.selectors import case_for
from xinfang.security.auth import client_ip

from .models import Rendition
from .selectors import DocumentNotIssued, document_file, documents_of, filename
from .services import document_correct, document_issue, document_issue_requested
from .views import PDF_PENDING, file_response


def _case(request, pk: int) -> Case:
    try:
        return case_for(acting_membership(request), pk)
    except Case.DoesNotExist:
        raise Http404("未找到该信访件。") from None


class DocumentRow(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    waiting_for = serializers.CharField(required=False)


class DocumentList(CaseView):
    @extend_schema(
        operation_id="case_documents",
        parameters=[MEMBERSHIP_PARAM],
        responses={200: DocumentRow(many=True), **COMMON_ERRORS},
    )
    def get(self, request, pk: int):
        case = _case(request, pk)
        base = f"/api/cases/{case.pk}/documents"
        return Response(
            [
                {
                    "code": r.code,
                    "title": r.title,
                    "version": r.issued.version if r.issued else None,
                    "issued_at": r.issued.issued_at if r.issued else None,
                    "reason": r.issued.reason if r.issued else "",
                    "waiting_for": r.reason_not,
                    "docx": f"{base}/{r.code}/docx/",
                    "pdf": f"{base}/{r.code}/pdf/",
                }
                for r in documents_of(case)
            ]
        )


class DocumentFile(CaseView):
    content_negotiation_class = JSONErrorsOnly

    @extend_schema(
        operation_id="case_document_file",
        parameters=[MEMBERSHIP_PARAM, OpenApiParameter(
            "version", int, description="文书的第几版（更正后有多版）；默认最新一版")],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            202: OpenApiResponse(description=PDF_PENDING),
            400: OpenApiResponse(Problem, description="version 不是正整数"),
            422: OpenApiResponse(description="文书尚未出具"),
            **COMMON_ERRORS,
        },
    )
    def get(self, request, pk: int, code: str, fmt: str):
        raw = request.query_params.get("version", "").strip()
        version = parse_id(raw) if raw else None
        if raw and version is None:  # not the latest instead: the client asked for another
            why = f"version 须为正整数（文书的第几版），不是“{raw}”。"
            return problem(status.HTTP_400_BAD_REQUEST, "invalid", why, {"version": why})
        try:
            row = document_file(
                by=acting_membership(request),
                case_id=pk,
                code=code,
                fmt=fmt,
                version=version,
                via="api",
                ip=client_ip(request),
            )
        except Case.DoesNotExist:
            raise Http404("未找到该信访件。") from None
        except DocumentNotIssued as e:  # a GET issues nothing: the action that does, named
            e = DocumentNotIssued(f"{e.message}出具：POST /api/cases/{pk}/documents/{code}/issue/",
                                  field=e.field)
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        except Refused as e:
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        if row.status != Rendition.Status.READY:
            detail = row.error if row.status == Rendition.Status.FAILED else PDF_PENDING
            code_ = 500 if row.status == Rendition.Status.FAILED else 202
            if code_ == 500:  # the one error shape (xinfang/api/errors.py), with the status
                response = problem(500, "server_error", detail, status=row.status)
            else:
                response = Response({"detail": detail, "status": row.status}, status=code_)
            response["Retry-After"] = "3"
            return response
        response: HttpResponse = file_response(bytes(row.content), filename(row), row.format)
        response["X-Content-SHA256"] = row.sha256
        return response


class DocumentIssue(CaseView):
    @extend_schema(
        operation_id="case_document_issue",
        parameters=[MEMBERSHIP_PARAM],
        request=None,
        responses={201: DocumentRow, 200: DocumentRow,
                   422: OpenApiResponse(description="文书尚不能出具"), **COMMON_ERRORS},
    )
    def post(self, request, pk: int, code: str):
        """Issue (freeze) the instrument now, where the step's task has not yet: 201 issued by
        this request, 200 already issued (the same version, unchanged)."""
        case = _case(request, pk)
        try:
            doc, made = document_issue_requested(case=case, code=code,
                                                 by=acting_membership(request))
        except Refused as e:
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(
            {"code": doc.code, "title": doc.title, "version": doc.version,
             "issued_at": doc.issued_at, "reason": doc.reason},
            status=status.HTTP_201_CREATED if made else status.HTTP_200_OK,
        )


class DocumentCorrection(CaseView):
    @extend_schema(
        operation_id="case_document_correct",
        parameters=[MEMBERSHIP_PARAM, REPLAY_PARAM],
        request=inline_serializer("Correction", {"reason": serializers.CharField()}),
        responses={201: DocumentRow, 422: OpenApiResponse(description="不能更正"), **COMMON_ERRORS,
                   **REPLAY_ERRORS},
    )
    @replayable
    def post(self, request, pk: int, code: str):
        case = _case(request, pk)
        by = acting_membership(request)
        reason = str(request.data.get("reason", "")).strip()
        try:
            if code == "D8":
                doc = document_issue(
                    case=case, code=code, by=by, reason=reason, params=dict(request.data)
                )
            else:
                document_correct(case=case, code=code, by=by, reason=reason)
                doc = case.issued_documents.filter(code=code).order_by("-version").first()
        except Refused as e:
            return refused(e, status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(
            {
                "code": doc.code,
                "title": doc.title,
                "version": doc.version,
                "issued_at": doc.issued_at,
                "reason": doc.reason,
            },
            status=201,
        )
