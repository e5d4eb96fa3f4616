"""One error shape for everything under /api/:

    {"code": "invalid", "detail": "matter：请填写信访事项", "errors": {"matter": "请填写信访事项"}}

``code`` is for programs (``invalid``, ``parse_error``, ``not_authenticated``,
``authentication_failed``, ``permission_denied``, ``not_found``, ``method_not_allowed``,
``not_acceptable``, ``unsupported_media_type``, ``throttled``, ``conflict``, ``stale``,
``refused``, ``idempotency_conflict``, ``server_error``); ``detail`` is one sentence for people, in
Chinese; ``errors`` maps each input at fault — a body field (``petitioners[0].name``), a query
parameter, or a header (``Authorization``, ``Content-Type``, ``Idempotency-Key``) — to what is
wrong with it, and is ``{}`` when no single input is at fault. Some answers add a key: ``field``
(422, the input the rules refused), ``version`` (409, the case's current version), ``wait`` (429,
seconds), ``case`` (409 of a reused sender reference).

DRF's exceptions come through ``exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``);
unknown paths and server errors through ``xinfang.web.errors``, which builds the same shape with
``error_body``; the views' own answers (400/409/422) with ``problem``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from xinfang.integrations.auth import token_of


def error_body(code: str, detail: str, errors: dict[str, str] | None = None, **extra) -> dict:
    return {"code": code, "detail": detail, "errors": dict(errors or {}), **extra}


def summary(errors: dict[str, str]) -> str:
    """The field errors as one sentence: ``matter：请填写信访事项；demands：至少登记一项诉求``."""
    return "；".join(f"{k}：{v}" for k, v in errors.items()) or "请求有误。"


def problem(status: int, code: str, detail: str | None = None,
            errors: dict[str, str] | None = None, headers: dict | None = None,
            **extra) -> Response:
    errors = dict(errors or {})
    return Response(error_body(code, detail or summary(errors), errors, **extra),
                    status=status, headers=headers)


def invalid(errors: dict[str, str]) -> Response:
    errors = dict(errors)
    if "non_field_errors" in errors:  # the body as a whole (a list where an object was expected …)
        errors["body"] = errors.pop("non_field_errors")
    return problem(400, "invalid", errors=errors)


def _flat(detail) -> dict[str, str]:
    from .serializers import flat_errors

    return flat_errors(detail)


_HEADER_AT_FAULT = {
    exceptions.ParseError: ("body", "parse_error", "请求体不是有效的 JSON。"),
    exceptions.UnsupportedMediaType: ("Content-Type", "unsupported_media_type", None),
    exceptions.NotAcceptable: ("Accept", "not_acceptable", None),
    exceptions.MethodNotAllowed: ("method", "method_not_allowed", None),
}


def exception_handler(exc, context):
    """DRF's exceptions as the one shape; anything else goes on to Django (a 500, answered as
    JSON by ``xinfang.web.errors``)."""
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "没有这个接口或对象。")
    elif isinstance(exc, OverflowError):
        # An id beyond any row's (SQLite cannot even bind it): there is no such object.
        exc = exceptions.NotFound("没有这个接口或对象。")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    status = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        return invalid(_flat(exc.detail))
    detail = exc.detail if isinstance(exc.detail, str) else summary(_flat(exc.detail))
    code = exc.default_code
    errors: dict[str, str] = {}
    extra: dict = {}
    for kind, (field, kind_code, message) in _HEADER_AT_FAULT.items():
        if isinstance(exc, kind):
            code = kind_code
            errors[field] = str(detail)
            detail = message or str(detail)
            break
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        errors["Authorization"] = str(detail)
        if request is not None and request.META.get("HTTP_AUTHORIZATION"):
            # A client that sent a credential is told so the HTTP way (RFC 6750); a browser
            # without a session keeps the 403 the UI's session authentication answers.
            status = 401
            headers["WWW-Authenticate"] = 'Bearer realm="xinfang", error="invalid_token"'
        elif getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled):
        extra["wait"] = int(exc.wait or 0) if exc.wait is not None else None
        detail = f"请求过于频繁，请{extra['wait'] or 1}秒后再试。"
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
    return problem(status, code, str(detail), errors, headers=headers, **extra)


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token (an integration that loops is slowed, not the office's clerks)."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = token_of(request)
        return None if token is None else self.cache_format % {"scope": self.scope,
                                                                "ident": token.pk}


class Problem(serializers.Serializer):
    """The error shape, for the OpenAPI schema."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.CharField(),
                                   help_text="出错的输入（字段、查询参数或请求头）→ 原因")


class Refusal(Problem):
    field = serializers.CharField(allow_null=True)


class Stale(Problem):
    version = serializers.IntegerField(allow_null=True)


class Throttled(Problem):
    wait = serializers.IntegerField(allow_null=True)


class CaseRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class IntakeConflictOut(Problem):
    """409 of a registration: its sender reference was used before for a different content
    (``case``: the case registered then) — or, ``code`` = ``stale``, nothing of the kind."""

    case = CaseRef(required=False)
