"""The system administrator can no longer become anyone (issue 8): a reset issues a one-time
password that must be changed before anything else, an administrator's reset needs a second
administrator, every user changes their own password and enrols TOTP, roles can require TOTP,
and a TOTP code is good once."""

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.org.models import User
from xinfang.security.models import PasswordResetRequest
from xinfang.security.totp import _totp_secret, totp_enable

from .conftest import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

NEW = "Xin#Mima2026a"


def one_time_of(response) -> str:
    return response.content.decode().split('class="one-time-password">', 1)[1].split("<", 1)[0]


def sign_in(username, password, code="", ip="192.0.2.50"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(
        reverse("web:login"), {"username": username, "password": password, "totp_code": code}
    )
    return client, response


def last_change(change):
    return (
        AuditEntry.objects.filter(detail__change=change).order_by("-id").first()
        if AuditEntry.objects.exists()
        else None
    )


@pytest.fixture
def no_totp_rule(settings):
    settings.XINFANG_TOTP_REQUIRED_ROLES = []


# -- an ordinary account's reset -------------------------------------------------------------------


def test_a_reset_password_signs_in_only_to_be_changed(jianan, no_totp_rule):
    # given the system administrator resets the clerk's password, and the office's 分管领导
    # collects the one-time password
    admin = signed_in(jianan.member("sysadmin"))
    clerk = jianan.member("clerk").user
    admin.post(reverse("web:admin_user", args=[clerk.pk]))
    handover = clerk.password_handovers.get()
    one_time = one_time_of(signed_in(jianan.member("approver")).post(
        reverse("web:password_handover_collect", args=[handover.pk])))
    # when someone signs in with it
    client, response = sign_in("clerk", one_time)
    # then every page leads to the change-password page, and the API refuses the session
    assert response.status_code == 302 and response["Location"] == reverse("web:account_password")
    for url in (reverse("web:home"), reverse("web:ledger"), reverse("web:account_totp")):
        assert client.get(url)["Location"] == reverse("web:account_password")
    api = client.get("/api/cases/")
    assert api.status_code == 403 and "一次性密码" in api.json()["detail"]
    # until the password is changed, with the one-time password as the current one
    response = client.post(
        reverse("web:account_password"),
        {"old_password": one_time, "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    assert client.get("/api/cases/").status_code == 200
    clerk.refresh_from_db()
    assert not clerk.must_change_password and clerk.check_password(NEW)
    assert last_change("password_change").actor_id == clerk.pk


def test_the_demo_password_is_not_forced_to_change(jianan, no_totp_rule):
    client, response = sign_in("clerk", PASSWORD)

    assert response["Location"] == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200


def test_an_administrator_cannot_reset_an_administrator_alone(jianan):
    admin = signed_in(jianan.member("sysadmin"))
    auditor = jianan.member("auditor").user
    before = auditor.password

    response = admin.post(reverse("web:admin_user", args=[auditor.pk]), {"reason": ""})
    assert response.status_code == 400
    response = admin.post(reverse("web:admin_user", args=[auditor.pk]), {"reason": "忘记密码"})
    assert response.status_code == 302

    auditor.refresh_from_db()
    assert auditor.password == before and not auditor.must_change_password
    request = PasswordResetRequest.objects.get()
    assert request.status == "pending" and request.requested_by == jianan.member("sysadmin").user
    # the asker may not approve their own request
    response = admin.post(
        reverse("web:admin_password_resets"), {"request": request.pk, "decision": "approve"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "pending"
    auditor.refresh_from_db()
    assert auditor.password == before


def test_a_second_administrator_approves_and_gets_the_one_time_password(jianan):
    sysadmin, secadmin = jianan.member("sysadmin"), jianan.member("secadmin")
    auditor = jianan.member("auditor").user
    signed_in(sysadmin).post(reverse("web:admin_user", args=[auditor.pk]), {"reason": "忘记密码"})
    request = PasswordResetRequest.objects.get()

    response = signed_in(secadmin).post(
        reverse("web:admin_password_resets"), {"request": request.pk, "decision": "approve"}
    )

    one_time = one_time_of(response)
    auditor.refresh_from_db()
    assert auditor.check_password(one_time) and auditor.must_change_password
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", secadmin.user)
    entry = last_change("password_reset")
    assert entry.actor_id == secadmin.user_id and entry.detail["requested_by"] == "sysadmin"
    assert one_time not in str(entry.detail)
    # a request answered once cannot be approved again
    again = signed_in(secadmin).post(
        reverse("web:admin_password_resets"), {"request": request.pk, "decision": "approve"}
    )
    assert again.status_code == 302
    assert auditor.check_password(one_time)


def test_a_refused_request_changes_nothing_and_is_audited(jianan):
    secadmin_user = jianan.member("secadmin").user
    signed_in(jianan.member("sysadmin")).post(
        reverse("web:admin_user", args=[secadmin_user.pk]), {"reason": "交接"}
    )
    request = PasswordResetRequest.objects.get()
    before = secadmin_user.password
    # the target may not decide their own reset either
    signed_in(jianan.member("secadmin")).post(
        reverse("web:admin_password_resets"), {"request": request.pk, "decision": "refuse"}
    )
    request.refresh_from_db()
    assert request.status == "pending"
    # another system administrator does
    other = User.objects.create_user("sysadmin2", password=PASSWORD)
    from xinfang.org.models import Membership

    m = Membership.objects.create(user=other, unit=jianan.member("sysadmin").unit, role="sysadmin")
    signed_in(m).post(
        reverse("web:admin_password_resets"), {"request": request.pk, "decision": "refuse"}
    )
    request.refresh_from_db()
    secadmin_user.refresh_from_db()
    assert request.status == "refused" and secadmin_user.password == before
    assert last_change("password_reset_refused").actor_id == other.pk


def test_a_business_role_may_not_open_the_approvals(jianan):
    response = signed_in(jianan.member("clerk")).get(reverse("web:admin_password_resets"))
    assert response.status_code == 403


# -- own password ---------------------------------------------------------------------------------


def test_changing_the_own_password_needs_the_current_one(jianan):
    client = signed_in(jianan.member("township"))
    url = reverse("web:account_password")

    wrong = client.post(url, {"old_password": "nope", "password1": NEW, "password2": NEW})
    weak = client.post(url, {"old_password": PASSWORD, "password1": "abc", "password2": "abc"})
    right = client.post(url, {"old_password": PASSWORD, "password1": NEW, "password2": NEW})

    assert wrong.status_code == 400 and "当前密码不正确" in wrong.content.decode()
    assert weak.status_code == 400
    assert right.status_code == 302
    user = jianan.member("township").user
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.get(reverse("web:home")).status_code == 200  # this session stays


# -- TOTP -----------------------------------------------------------------------------------------


def test_an_administrator_without_totp_can_only_enrol(jianan):
    # given the default rule: the three administrators need TOTP
    client, response = sign_in("secadmin", PASSWORD)
    assert response["Location"] == reverse("web:account_totp")
    assert client.get(reverse("web:admin_roles"))["Location"] == reverse("web:account_totp")
    assert client.get("/api/cases/").status_code == 403
    # the page shows a QR code drawn here, the secret and the otpauth URI
    page = client.get(reverse("web:account_totp"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "otpauth://totp/" in html
    secret = client.session["xinfang_totp_pending"]
    assert secret in html
    # a wrong code is refused; the right one enrols and opens the pages
    assert client.post(reverse("web:account_totp"), {"code": "12345x"}).status_code == 400
    code = pyotp.TOTP(secret).now()
    assert client.post(reverse("web:account_totp"), {"code": code}).status_code == 302
    assert client.get(reverse("web:admin_roles")).status_code == 200
    user = jianan.member("secadmin").user
    user.refresh_from_db()
    assert _totp_secret(user) == secret
    # and from now on the password alone is not enough
    _, response = sign_in("secadmin", PASSWORD)
    assert response.status_code == 400 and "动态验证码" in response.content.decode()


def test_a_business_role_is_not_forced_to_enrol_but_may(jianan):
    client, response = sign_in("approver", PASSWORD)
    assert response["Location"] == reverse("web:home")
    assert client.get(reverse("web:account_totp")).status_code == 200


def test_the_totp_rule_follows_the_setting(jianan, settings):
    settings.XINFANG_TOTP_REQUIRED_ROLES = ["approver"]
    _, approver = sign_in("approver", PASSWORD)
    _, sysadmin = sign_in("sysadmin", PASSWORD)
    assert approver["Location"] == reverse("web:account_totp")
    assert sysadmin["Location"] == reverse("web:admin_units")


def test_a_totp_code_is_accepted_once(jianan, no_totp_rule):
    user = jianan.member("approver").user
    secret = pyotp.parse_uri(totp_enable(user)).secret
    code = pyotp.TOTP(secret).now()

    first, response = sign_in("approver", PASSWORD, code=code)
    assert response.status_code == 302
    # the same code again, inside its window (an attacker who saw it over the shoulder)
    _, replay = sign_in("approver", PASSWORD, code=code, ip="192.0.2.51")
    assert replay.status_code == 400 and "动态验证码错误" in replay.content.decode()


def test_the_secadmin_unbinds_a_lost_authenticator_and_the_user_enrols_again(jianan):
    user = jianan.member("sysadmin").user
    totp_enable(user)
    client = signed_in(jianan.member("secadmin"))

    response = client.post(reverse("web:admin_totp_reset", args=[user.pk]))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.totp_secret == ""
    assert last_change("totp_disable").actor_id == jianan.member("secadmin").user_id
    # the administrator signs in with the password and is sent to enrol again
    _, response = sign_in("sysadmin", PASSWORD)
    assert response["Location"] == reverse("web:account_totp")


def test_guessing_the_current_password_on_the_change_page_locks_the_account(jianan):
    # a borrowed session may not try passwords without limit
    client = signed_in(jianan.member("township"))
    url = reverse("web:account_password")
    for _ in range(5):
        response = client.post(url, {"old_password": "guess", "password1": NEW, "password2": NEW})
    assert "账户已锁定" in response.content.decode()
    right = client.post(url, {"old_password": PASSWORD, "password1": NEW, "password2": NEW})
    assert right.status_code == 400 and "账户已锁定" in right.content.decode()
    user = jianan.member("township").user
    user.refresh_from_db()
    assert user.locked_until is not None and user.check_password(PASSWORD)
