"""A role withdrawn that leaves its unit with open work and nobody in it: the security
administrator may still withdraw it at once (a compromised account), but is told what now has
nobody, the audit entry records it, the unit's petition office is told in its inbox, and
``xinfang doctor`` names the unit until someone works in it again."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.api.world import walk
from xinfang.audit.models import AuditEntry
from xinfang.notify.models import Kind, Notice
from xinfang.notify.selectors import inbox
from xinfang.org.models import Membership, User
from xinfang.web.admin_services import membership_grant, membership_revoke

from .conftest import signed_in

pytestmark = pytest.mark.django_db

LEFT = ("承办建安区未办结的信访件1件（主办1件、协办0件），"
        "受理机关可在信访台账中按承办单位“区民政局”查看，或在“工作移交”页面"
        "（台账 › 工作移交，或 xinfang handover 命令）改派给其他单位")


def test_the_last_role_of_a_unit_holding_open_work_is_withdrawn_and_said(jianan, capsys):
    # given a case 区民政局 leads, and 周明 its only member
    j = jianan
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    call_command("doctor")
    assert "✓ 任职：有未办结工作的单位均有有效任职人员。" in capsys.readouterr().out
    # when the security administrator withdraws 周明's role from the page
    response = signed_in(j.member("secadmin")).post(
        reverse("web:admin_membership_revoke", args=[j.member("bureau").pk]), follow=True)
    # then it is done, and the page says what now has nobody (counts, no case named)
    page = response.content.decode()
    assert "已撤销" in page and "区民政局已无有效任职人员，以下事项无人办理" in page
    assert LEFT in page
    assert not Membership.objects.get(pk=j.member("bureau").pk).is_active
    entry = AuditEntry.objects.filter(detail__change="role_revoke").latest("id")
    assert entry.detail["unattended"] == [LEFT]
    # and the county's petition office is told, in its clerks' inbox
    notice = Notice.objects.get(kind=Kind.UNATTENDED)
    assert (notice.unit_id, notice.role, notice.case_id) == (j.county.pk, "clerk", None)
    assert notice.text == f"区民政局已无有效任职人员：{LEFT}。"
    assert notice.link == f"/ledger/?unit={j.bureaus['区民政局'].pk}" and notice.needs_reason
    assert notice in inbox(j.member("clerk"))
    # and doctor names the unit
    call_command("doctor")
    out = capsys.readouterr().out
    assert "! 任职：1个单位有未办结的工作但已无有效任职人员" in out
    assert f"区民政局：{LEFT}。" in out
    # until a role is granted there again
    someone = User.objects.create_user("minzheng2", full_name="民政二")
    membership_grant(by=j.member("secadmin"), user=someone, unit=j.bureaus["区民政局"],
                     role="unit_handler")
    call_command("doctor")
    assert "✓ 任职：" in capsys.readouterr().out


def test_a_unit_left_with_someone_or_with_nothing_open_is_not_reported(jianan):
    j = jianan
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    second = User.objects.create_user("minzheng2", full_name="民政二")
    membership_grant(by=j.member("secadmin"), user=second, unit=j.bureaus["区民政局"],
                     role="unit_handler")
    # someone is left in 区民政局
    done = membership_revoke(by=j.member("secadmin"), membership=j.member("bureau"))
    assert done.unattended == () and not Notice.objects.filter(kind=Kind.UNATTENDED).exists()
    # a unit with nothing open: its last role goes quietly
    discipline = Membership.objects.get(pk=j.member("discipline").pk)
    done = membership_revoke(by=j.member("secadmin"), membership=discipline)
    assert done.unattended == () and not Notice.objects.filter(kind=Kind.UNATTENDED).exists()
    # a retried revocation says nothing again
    again = membership_revoke(by=j.member("secadmin"), membership=discipline)
    assert again.unattended == () and not Notice.objects.filter(kind=Kind.UNATTENDED).exists()


def test_an_account_switched_off_does_not_count_as_someone_left(jianan):
    # given 区民政局's second member, whose account was switched off
    j = jianan
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    off = User.objects.create_user("minzheng2", full_name="民政二")
    membership_grant(by=j.member("secadmin"), user=off, unit=j.bureaus["区民政局"],
                     role="unit_handler")
    User.objects.filter(pk=off.pk).update(is_active=False)
    # when 周明's role is withdrawn
    done = membership_revoke(by=j.member("secadmin"), membership=j.member("bureau"))
    # then nobody is left to do the work
    assert done.unattended == (LEFT,)
    assert Notice.objects.filter(kind=Kind.UNATTENDED, unit=j.county).count() == 1
