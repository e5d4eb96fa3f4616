"""Error pages: Chinese, in the site's layout, whatever DEBUG says; JSON under /api/.

Django answers an unknown address with its English debug page (every URL listed) when DEBUG is
on, and renders `404.html` only when it is off. A clerk or a petitioner in a service hall must
never see the former, so the pages are decided here, once, for both settings:

* `ErrorPagesMiddleware.process_exception` turns the exceptions a view raises (not found,
  forbidden, bad request, and in DEBUG any other) into our page before Django's debug views see
  them;
* its `__call__` replaces the 404 Django produces when no URL matched (`resolver_match` is None),
  which never reaches `process_exception`;
* `handler400/403/404/500` in `xinfang/urls.py` point here for the DEBUG-off path, so the API
  answers JSON there too.

An address under /api/ gets `{"code": …, "detail": …, "errors": {}}` with the status — the shape
of every API error (`xinfang/api/errors.py`) — and never HTML.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger("xinfang.errors")

# status → (template, code, message for the API)
_PAGES = {
    400: ("400.html", "bad_request", "请求格式有误。"),
    403: ("403.html", "permission_denied", "无权执行此操作。"),
    404: ("404.html", "not_found", "没有这个接口或对象。"),
    500: ("500.html", "server_error", "系统出现错误，请稍后重试。"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(request: HttpRequest, status: int) -> HttpResponse:
    template, code, message = _PAGES[status]
    if _is_api(request):
        from xinfang.api.errors import error_body  # the one shape of every /api/ error

        response: HttpResponse = JsonResponse(error_body(code, message), status=status,
                                              json_dumps_params={"ensure_ascii": False})
    else:
        try:
            body = render_to_string(template, request=request)
        except Exception:  # the layout itself failed (a broken database, say): plain page
            if status != 500:
                raise
            log.exception("the 500 page could not be rendered with the layout")
            body = render_to_string("500.html")
        response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response.xinfang_error_page = True
    return response


def bad_request(request, exception=None):
    return error_response(request, 400)


def permission_denied(request, exception=None):
    return error_response(request, 403)


def page_not_found(request, exception=None):
    return error_response(request, 404)


def server_error(request):
    return error_response(request, 500)


class ErrorPagesMiddleware:
    """Placed right after SecurityMiddleware so every inner response passes through it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not getattr(response, "xinfang_error_page", False)
        ):
            # No URL matched: Django built its own 404 (in DEBUG the English list of every URL).
            return error_response(request, 404)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return error_response(request, 404)
        if isinstance(exception, PermissionDenied):
            return error_response(request, 403)
        if isinstance(exception, SuspiciousOperation):
            # Django logs these to the security logger before answering 400; keep that.
            logging.getLogger(f"django.security.{type(exception).__name__}").error(
                str(exception), extra={"status_code": 400, "request": request}
            )
            return error_response(request, 400)
        if isinstance(exception, BadRequest):
            return error_response(request, 400)
        if settings.DEBUG:
            # With DEBUG off Django logs and calls handler500; with it on it would show the
            # traceback to whoever made the request. Log it for the developer's console instead.
            log.exception("server error at %s", request.path)
            return error_response(request, 500)
        return None
