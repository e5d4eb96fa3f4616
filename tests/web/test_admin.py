"""三员分立 from the browser's side: the system administrator keeps units and accounts, the
security administrator roles, lockouts and keys, the auditor reads and verifies the trail. Every
change leaves its audit entry."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xinfang.audit.models import AuditEntry
from xinfang.audit.services import VerifyResult
from xinfang.org.models import Membership, Unit, User

from .conftest import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

STRONG = "Qiang#Mima2026"


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-id").first()


# -- units ---------------------------------------------------------------------------------------


def test_a_unit_created_by_the_sysadmin_is_audited(jianan):
    # given
    sysadmin = jianan.member("sysadmin")
    client = signed_in(sysadmin)
    # when
    response = client.post(
        reverse("web:admin_units"),
        {
            "u-name": "灵井镇",
            "u-level": "township",
            "u-kind": "township",
            "u-parent": jianan.county.pk,
        },
    )
    # then
    assert response.status_code == 302
    unit = Unit.objects.get(name="灵井镇")
    assert unit.parent == jianan.county and unit.path.startswith(jianan.county.path)
    entry = last_audit("permission_change")
    assert entry.object_type == "unit" and entry.object_id == str(unit.pk)
    assert entry.detail["change"] == "unit_create" and entry.actor_id == sysadmin.user_id
    assert "灵井镇" in client.get(reverse("web:admin_units")).content.decode()


def test_a_new_jurisdiction_with_a_profile_needs_a_short_name(jianan):
    client = signed_in(jianan.member("sysadmin"))
    data = {
        "u-name": "禹州市",
        "u-level": "county",
        "u-kind": "government",
        "u-parent": jianan.city.pk,
        "u-profile_code": "henan",
    }
    response = client.post(reverse("web:admin_units"), data)
    assert response.status_code == 400
    assert "简称" in response.content.decode() and not Unit.objects.filter(name="禹州市").exists()
    data["u-short_name"] = "禹"
    assert client.post(reverse("web:admin_units"), data).status_code == 302
    entry = last_audit("profile_change")
    assert entry.detail == {
        "change": "profile_set",
        "unit": "禹州市",
        "old": None,
        "new": "henan",
        "by_role": "sysadmin",
    }


def test_a_unit_may_not_sit_above_its_parent(jianan):
    response = signed_in(jianan.member("sysadmin")).post(
        reverse("web:admin_units"),
        {
            "u-name": "某县",
            "u-level": "county",
            "u-kind": "government",
            "u-parent": jianan.townships["将官池镇"].pk,
        },
    )
    assert response.status_code == 400 and not Unit.objects.filter(name="某县").exists()


def test_changing_a_jurisdictions_profile_is_a_profile_change(jianan):
    county = jianan.county
    response = signed_in(jianan.member("sysadmin")).post(
        reverse("web:admin_unit", args=[county.pk]),
        {"e-name": "建安区", "e-short_name": "建安", "e-profile_code": "national"},
    )
    assert response.status_code == 302
    county.refresh_from_db()
    assert county.profile_code == "national"
    entry = last_audit("profile_change")
    assert entry.detail["old"] == "jianan" and entry.detail["new"] == "national"
    assert entry.object_id == str(county.pk)


def test_renaming_a_unit_is_audited_and_an_unknown_profile_refused(jianan):
    town = jianan.townships["椹涧乡"]
    client = signed_in(jianan.member("sysadmin"))
    response = client.post(
        reverse("web:admin_unit", args=[town.pk]),
        {"e-name": "椹涧镇", "e-profile_code": "nowhere"},
    )
    assert response.status_code == 400  # not among the choices
    response = client.post(reverse("web:admin_unit", args=[town.pk]), {"e-name": "椹涧镇"})
    assert response.status_code == 302
    entry = last_audit("permission_change")
    assert entry.detail["change"] == "unit_update" and entry.detail["name"] == ["椹涧乡", "椹涧镇"]


def test_a_unit_with_members_or_active_children_is_not_deactivated(jianan):
    client = signed_in(jianan.member("sysadmin"))
    town = jianan.townships["将官池镇"]  # has villages and three members
    response = client.post(
        reverse("web:admin_unit_active", args=[town.pk]), {"active": "0"}, follow=True
    )
    assert "下还有启用的单位" in response.content.decode()
    village = jianan.villages["霍庄村"]
    client.post(reverse("web:admin_unit_active", args=[village.pk]), {"active": "0"})
    village.refresh_from_db()
    assert not village.is_active
    assert last_audit("permission_change").detail["change"] == "unit_deactivate"


# -- accounts ------------------------------------------------------------------------------------


def test_an_account_is_created_with_a_password_the_validators_accept(jianan):
    client = signed_in(jianan.member("sysadmin"))
    data = {
        "n-username": "wangwu",
        "n-full_name": "王五",
        "n-password1": "password",
        "n-password2": "password",
    }
    response = client.post(reverse("web:admin_users"), data)
    html = response.content.decode()
    assert response.status_code == 400 and not User.objects.filter(username="wangwu").exists()
    error = html.split('id="id_n-password1_error"', 1)[1].split("</small>", 1)[0]
    assert "密码太短，至少需要 10 个字符" in error and "too short" not in error
    data["n-password1"] = data["n-password2"] = STRONG
    assert client.post(reverse("web:admin_users"), data).status_code == 302
    user = User.objects.get(username="wangwu")
    assert user.check_password(STRONG) and not user.memberships.exists()
    assert user.must_change_password  # the administrator chose it: changed at first sign-in
    assert last_audit("permission_change").detail["change"] == "user_create"


def test_a_full_width_name_is_the_half_width_account_not_a_second_one(jianan):
    # given an account "wangwu"
    client = signed_in(jianan.member("sysadmin"))
    data = {"n-username": "wangwu", "n-full_name": "王五", "n-password1": STRONG,
            "n-password2": STRONG}
    assert client.post(reverse("web:admin_users"), data).status_code == 302
    # when the same name is typed again in an input method's full-width mode, in capitals too
    for typed in ("ｗａｎｇｗｕ", "ＷＡＮＧＷＵ"):
        response = client.post(reverse("web:admin_users"), {**data, "n-username": typed})
        # then it is refused at the field as the name already taken, and no look-alike is made
        assert response.status_code == 400
        error = response.content.decode().split('id="id_n-username_error"', 1)[1]
        assert "已被使用" in error.split("</small>", 1)[0]
    assert list(User.objects.filter(full_name="王五").values_list("username", flat=True)) == [
        "wangwu"]
    # and a new name typed full-width is kept half-width, as it is typed at sign-in
    client.post(reverse("web:admin_users"), {**data, "n-username": "ｌｉｕｌｉｕ"})
    assert User.objects.filter(username="liuliu").exists()


def test_a_password_reset_and_a_deactivated_account(jianan):
    client = signed_in(jianan.member("sysadmin"))
    clerk = jianan.member("clerk").user
    clerk_client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("web:admin_user", args=[clerk.pk]))
    assert response.status_code == 302  # the one-time password waits for the clerk's leader
    clerk.refresh_from_db()
    assert not clerk.has_usable_password() and clerk.must_change_password
    assert last_audit("profile_change").detail["change"] == "password_reset"
    # reset: the clerk's open session ends (tests/web/test_password_handover.py)
    assert clerk_client.get(reverse("web:home")).status_code == 302
    # deactivated: the clerk's open session ends
    clerk_client = signed_in(jianan.member("clerk"))
    client.post(reverse("web:admin_user_active", args=[clerk.pk]), {"active": "0"})
    assert clerk_client.get(reverse("web:home")).status_code == 302
    assert last_audit("permission_change").detail["change"] == "user_deactivate"


def test_the_sysadmin_may_not_deactivate_itself(jianan):
    sysadmin = jianan.member("sysadmin")
    client = signed_in(sysadmin)
    response = client.post(
        reverse("web:admin_user_active", args=[sysadmin.user_id]), {"active": "0"}, follow=True
    )
    assert "不能停用自己的账户" in response.content.decode()
    sysadmin.user.refresh_from_db()
    assert sysadmin.user.is_active


def test_the_last_security_administrators_account_is_not_deactivated(jianan):
    # given the only security administrator, and the system administrator's page
    secadmin = jianan.member("secadmin").user
    client = signed_in(jianan.member("sysadmin"))
    # when the system administrator switches that account off
    response = client.post(
        reverse("web:admin_user_active", args=[secadmin.pk]), {"active": "0"}, follow=True
    )
    # then it is refused, saying why: nobody could grant a role again
    assert "最后一名有效的安全管理员" in response.content.decode()
    secadmin.refresh_from_db()
    assert secadmin.is_active
    # and with a second security administrator it is done
    second = User.objects.create_user("anquan2", password=STRONG, full_name="安全员二")
    Membership.objects.create(user=second, unit=jianan.county, role="secadmin")
    client.post(reverse("web:admin_user_active", args=[secadmin.pk]), {"active": "0"})
    secadmin.refresh_from_db()
    assert not secadmin.is_active


def test_the_last_system_administrators_role_is_not_revoked(jianan):
    # given the only system administrator (the one who makes and switches on accounts)
    sysadmin = jianan.member("sysadmin")
    client = signed_in(jianan.member("secadmin"))
    # when the security administrator withdraws that role
    response = client.post(reverse("web:admin_membership_revoke", args=[sysadmin.pk]),
                           follow=True)
    # then it is refused by name, and nothing is audited
    assert "最后一名有效的系统管理员" in response.content.decode()
    sysadmin.refresh_from_db()
    assert sysadmin.is_active
    assert not AuditEntry.objects.filter(detail__change="role_revoke").exists()


def test_the_last_auditors_role_is_not_revoked(jianan):
    # given the only auditor (三员分立: the one who reads the other two's trail)
    auditor = jianan.member("auditor")
    client = signed_in(jianan.member("secadmin"))
    # when the security administrator withdraws that role
    response = client.post(reverse("web:admin_membership_revoke", args=[auditor.pk]),
                           follow=True)
    # then it is refused by name, and nothing is audited
    assert "最后一名有效的审计管理员" in response.content.decode()
    auditor.refresh_from_db()
    assert auditor.is_active
    assert not AuditEntry.objects.filter(detail__change="role_revoke").exists()
    # and with a second auditor it is done
    second = User.objects.create_user("shenji2", password=STRONG, full_name="审计员二")
    Membership.objects.create(user=second, unit=jianan.county, role="auditor")
    client.post(reverse("web:admin_membership_revoke", args=[auditor.pk]))
    auditor.refresh_from_db()
    assert not auditor.is_active


def test_the_last_auditors_account_is_not_deactivated(jianan):
    # given the only auditor, and the system administrator's page
    auditor = jianan.member("auditor").user
    client = signed_in(jianan.member("sysadmin"))
    # when the system administrator switches that account off
    response = client.post(
        reverse("web:admin_user_active", args=[auditor.pk]), {"active": "0"}, follow=True
    )
    # then it is refused, saying why: nobody would read the administrators' trail
    assert "最后一名有效的审计管理员" in response.content.decode()
    auditor.refresh_from_db()
    assert auditor.is_active
    assert not AuditEntry.objects.filter(detail__change="user_deactivate").exists()


# -- roles, lockouts, keys -----------------------------------------------------------------------


def test_a_membership_granted_by_the_secadmin_is_audited(jianan):
    # given an account without a role
    user = User.objects.create_user("xiaoli", password=STRONG, full_name="小李")
    secadmin = jianan.member("secadmin")
    client = signed_in(secadmin)
    # when
    response = client.post(
        reverse("web:admin_roles_user", args=[user.pk]),
        {"g-unit": jianan.townships["五女店镇"].pk, "g-role": "unit_handler"},
    )
    # then
    assert response.status_code == 302
    m = Membership.objects.get(user=user)
    assert m.role == "unit_handler" and m.is_active
    entry = last_audit("permission_change")
    assert entry.object_type == "membership" and entry.object_id == str(m.pk)
    assert entry.detail["change"] == "role_grant" and entry.actor_id == secadmin.user_id
    # and the new member can now work
    assert signed_in(m).get(reverse("web:home")).status_code == 200
    # withdrawn again
    client.post(reverse("web:admin_membership_revoke", args=[m.pk]))
    m.refresh_from_db()
    assert not m.is_active and last_audit("permission_change").detail["change"] == "role_revoke"


@pytest.mark.parametrize(
    "holder,role",
    [("clerk", "auditor"), ("auditor", "clerk"), ("sysadmin", "secadmin")],
)
def test_the_three_administrator_roles_stand_alone(holder, role, jianan):
    user = jianan.member(holder).user
    response = signed_in(jianan.member("secadmin")).post(
        reverse("web:admin_roles_user", args=[user.pk]),
        {"g-unit": jianan.county.pk, "g-role": role},
    )
    assert response.status_code == 400 and "三员分立" in response.content.decode()
    assert not Membership.objects.filter(user=user, role=role).exists()


def test_the_secadmin_may_not_grant_itself_a_role(jianan):
    secadmin = jianan.member("secadmin")
    client = signed_in(secadmin)
    page = client.get(reverse("web:admin_roles_user", args=[secadmin.user_id])).content.decode()
    assert 'id="grant-form"' not in page
    response = client.post(
        reverse("web:admin_roles_user", args=[secadmin.user_id]),
        {"g-unit": jianan.county.pk, "g-role": "auditor"},
    )
    assert response.status_code == 400
    assert Membership.objects.filter(user=secadmin.user).count() == 1


def test_the_secadmin_unlocks_a_locked_account(jianan):
    # given five wrong passwords lock the clerk out
    clerk = jianan.member("clerk").user
    for _ in range(5):
        Client().post(reverse("web:login"), {"username": "clerk", "password": "wrong"})
    clerk.refresh_from_db()
    assert clerk.locked_until and clerk.locked_until > timezone.now()
    client = signed_in(jianan.member("secadmin"))
    listing = client.get(reverse("web:admin_roles") + "?locked=1").content.decode()
    assert "clerk" in listing and "解除锁定" in listing
    # when
    client.post(reverse("web:admin_unlock", args=[clerk.pk]))
    # then
    clerk.refresh_from_db()
    assert clerk.locked_until is None
    assert last_audit("permission_change").detail == {"change": "unlock"}
    login = Client().post(reverse("web:login"), {"username": "clerk", "password": PASSWORD})
    assert login.status_code == 302


def test_the_key_status_names_the_keys_and_the_current_one(jianan):
    from xinfang.security.crypto import get_keyring

    ring = get_keyring()
    html = signed_in(jianan.member("secadmin")).get(reverse("web:admin_keys")).content.decode()
    for key_id in ring.key_ids:
        assert f"<code>{key_id}</code>" in html
    assert "当前（用于加密）" in html


# -- the audit trail -----------------------------------------------------------------------------


def test_the_auditor_filters_the_trail_and_verifies_the_chain(jianan):
    Client().post(reverse("web:login"), {"username": "clerk", "password": "wrong"})
    signed_in(jianan.member("sysadmin")).post(
        reverse("web:admin_unit_active", args=[jianan.villages["霍庄村"].pk]), {"active": "0"}
    )
    client = signed_in(jianan.member("auditor"))
    html = client.get(reverse("web:audit_log"), {"action": "login_failed"}).content.decode()
    table = html.split('id="audit-table"', 1)[1]
    assert "登录失败" in table and "权限变更" not in table
    html = client.get(reverse("web:audit_log"), {"actor": "系统管理员"}).content.decode()
    table = html.split('id="audit-table"', 1)[1]
    assert "权限变更" in table and "登录失败" not in table
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    html = client.get(reverse("web:audit_log"), {"at_from": tomorrow}).content.decode()
    assert "暂无记录" in html
    # by object type (off ``audit_object_newest``, planned for the type typed; lead49)
    html = client.get(reverse("web:audit_log"), {"object_type": "unit"}).content.decode()
    table = html.split('id="audit-table"', 1)[1]
    assert "权限变更" in table and "登录失败" not in table
    html = client.get(reverse("web:audit_log"), {"object_type": "no-such'type"}).content.decode()
    assert "暂无记录" in html
    html = client.get(reverse("web:audit_log"), {"verify": "1"}).content.decode()
    result = html.split('id="verify-result"', 1)[1].split("</div>", 1)[0]
    assert "审计链完整" in result


def test_a_broken_chain_is_shown_as_broken(jianan, monkeypatch):
    broken = VerifyResult(False, 3, 4, "审计记录 #4 的内容与其哈希不符：已被改动。")
    monkeypatch.setattr("xinfang.audit.services.audit_verify", lambda: broken)
    html = (
        signed_in(jianan.member("auditor"))
        .get(reverse("web:audit_log"), {"verify": "1"})
        .content.decode()
    )
    assert "审计链被破坏" in html and "#4" in html


def test_an_entry_shown_cut_short_links_to_its_page_with_every_item(jianan):
    """An export's entry lists every case number it contained: the auditor's page shows the
    first twenty and links to the entry's own page, which shows them all. Only the auditor
    reads it; an entry that is not there is a 404."""
    from xinfang.audit.services import audit_record

    numbers = [f"建安{n:05d}" for n in range(300)]
    entry = audit_record(action="export", actor=jianan.member("clerk"), object_type="ledger",
                         object_id="L0", detail={"ledger": "L0", "cases": numbers})
    auditor = signed_in(jianan.member("auditor"))
    html = auditor.get(reverse("web:audit_log")).content.decode()
    row = html.split(f"<tr><td>{entry.pk}</td>", 1)[1].split("</tr>", 1)[0]
    page_url = reverse("web:audit_entry", args=[entry.pk])
    assert numbers[19] in row and numbers[20] not in row and f'href="{page_url}"' in row
    whole = auditor.get(page_url)
    assert whole.status_code == 200
    assert "、".join(numbers) in whole.content.decode()
    assert auditor.get(reverse("web:audit_entry", args=[entry.pk + 1000])).status_code == 404
    assert signed_in(jianan.member("clerk")).get(page_url).status_code == 403


def test_the_trail_lists_a_long_export_from_its_brief_and_an_older_entry_from_its_detail(jianan):
    """The list reads an entry's brief (``AuditEntry.brief``, lead49) instead of its detail of
    every exported number; an entry written before briefs existed has none and is listed from
    its detail, cut alike. The list's statement reads the detail only where there is no
    brief."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.audit.services import _append, audit_record

    numbers = [f"建安{n:05d}" for n in range(300)]
    clerk = jianan.member("clerk")
    briefed = audit_record(action="export", actor=clerk, object_type="ledger", object_id="L0",
                           detail={"ledger": "L0", "cases": numbers})
    older = _append({"at": briefed.at, "actor_id": clerk.user_id, "actor_name": "旧记录",
                     "action": "export", "object_type": "ledger", "object_id": "L1",
                     "detail": {"ledger": "L1", "cases": numbers}, "ip": ""})
    assert briefed.brief is not None and older.brief is None
    auditor = signed_in(jianan.member("auditor"))
    auditor.get(reverse("web:audit_log"))  # the session's first request
    with CaptureQueriesContext(connection) as ctx:
        html = auditor.get(reverse("web:audit_log")).content.decode()
    for entry in (briefed, older):
        row = html.split(f"<tr><td>{entry.pk}</td>", 1)[1].split("</tr>", 1)[0]
        page_url = reverse("web:audit_entry", args=[entry.pk])
        assert numbers[19] in row and numbers[20] not in row and "300" in row
        assert f'href="{page_url}"' in row
    listed = next(q["sql"] for q in ctx.captured_queries
                  if "audit_auditentry" in q["sql"] and "LIMIT" in q["sql"]
                  and "COUNT(" not in q["sql"])
    assert re.search(r'CASE WHEN \(?"audit_auditentry"\."brief" IS NULL\)? THEN '
                     r'"audit_auditentry"\."detail"', listed), listed
    assert '"audit_auditentry"."detail",' not in listed


def test_the_trail_is_counted_to_its_cap_not_whole(jianan):
    """Every case read appends an entry, so the trail is the largest table of an office: its
    pager counts to ``COUNT_CAP`` (as the ledger's does), not every entry (two million took
    108 ms a page; lead49)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.paging import COUNT_CAP

    auditor = signed_in(jianan.member("auditor"))
    auditor.get(reverse("web:audit_log"))
    with CaptureQueriesContext(connection) as ctx:
        assert auditor.get(reverse("web:audit_log")).status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries
              if "COUNT(" in q["sql"] and "audit_auditentry" in q["sql"]]
    assert counts and all(f"LIMIT {COUNT_CAP + 1}" in sql for sql in counts), counts
