"""Every error a user can meet is a Chinese page in the site's layout, with DEBUG on or off, and
JSON under /api/ (issue 15 "Broken", issue 16 "one error format")."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.web.conftest import signed_in

DEBUG_LEAKS = ("Using the URLconf", "Page not found", "Traceback", "Django", "urlpatterns")


def assert_chinese_page(response, status, heading):
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert heading in body
    assert "涉贫信访业务系统" in body  # the site's layout
    for leak in DEBUG_LEAKS:
        assert leak not in body, leak


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_address_is_a_chinese_404(db, debug):
    with override_settings(DEBUG=debug):
        response = Client().get("/no-such-page/")
    assert_chinese_page(response, 404, "页面不存在")


@pytest.mark.parametrize("debug", [True, False])
def test_a_case_the_user_may_not_see_is_a_chinese_404(jianan, register, debug):
    case = register()
    with override_settings(DEBUG=debug):
        response = signed_in(jianan.member("bureau")).get(reverse("web:case", args=[case.pk]))
    assert_chinese_page(response, 404, "页面不存在")


@pytest.mark.parametrize("debug", [True, False])
def test_a_forbidden_page_is_a_chinese_403(jianan, debug):
    # The audit log belongs to the auditor; a clerk raises PermissionDenied there.
    with override_settings(DEBUG=debug):
        response = signed_in(jianan.member("clerk")).get(reverse("web:audit_log"))
    assert response.status_code in (403, 404)
    body = response.content.decode()
    assert "涉贫信访业务系统" in body
    for leak in DEBUG_LEAKS:
        assert leak not in body, leak


@pytest.mark.parametrize("debug", [True, False])
def test_the_slash_is_still_appended(db, debug):
    with override_settings(DEBUG=debug):
        response = Client().get("/login")
    assert response.status_code == 301 and response["Location"] == "/login/"


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_address_answers_json(jianan, debug):
    with override_settings(DEBUG=debug):
        response = signed_in(jianan.member("clerk")).get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "没有这个接口或对象。", "code": "not_found", "errors": {}}


def test_a_csrf_failure_is_a_chinese_page(jianan):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("web:login"), {"username": "x", "password": "y"})
    assert_chinese_page(response, 403, "请求未通过安全校验")


@pytest.mark.parametrize("debug", [True, False])
@override_settings(ROOT_URLCONF="tests.web.urls_broken")
def test_a_server_error_is_a_chinese_500_without_a_traceback(jianan, debug):
    client = signed_in(jianan.member("clerk"), Client(raise_request_exception=False))
    with override_settings(DEBUG=debug):
        response = client.get("/broken/")
        api = client.get("/api/broken/")
    assert_chinese_page(response, 500, "系统出现错误")
    assert "boom" not in response.content.decode()
    assert api.status_code == 500 and api.json()["code"] == "server_error"
