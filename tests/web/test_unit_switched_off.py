"""A unit switched off while work still waits on it (乡镇撤并, a bureau merged): the system
administrator is refused, told how many open cases and orders hold the unit and where their
office finds them — the cases' clocks would otherwise run on and alert a unit nobody works in.
Work that has left the unit (transferred, declined) no longer holds it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.api.world import walk
from tests.conftest import register_in, sh
from xinfang.cases.errors import Refused
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import Invalid, perform
from xinfang.org.models import Unit
from xinfang.oversight import services as oversight
from xinfang.registers.models import BacklogCase
from xinfang.web.admin_services import (
    AdminRefused,
    membership_grant,
    membership_revoke,
    unit_create,
    unit_set_active,
)

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def assigned(j, lead, assisting=()):
    case = register_in(j)
    perform("propose", case=case, by=j.member("clerk"), proposal="交办", at=sh(2026, 9, 14, 11))
    perform("sign_off", case=case, by=j.member("approver"), at=sh(2026, 9, 14, 12))
    return perform("assign", case=case, by=j.member("clerk"), lead=lead,
                   assisting=list(assisting), receiver_name="陈晓东", at=sh(2026, 9, 14, 13))


def test_a_bureau_leading_and_assisting_open_cases_is_not_switched_off(jianan):
    # given: 区住建局 has no member and no unit under it, but leads one open case, assists another
    j = jianan
    bureau = j.bureaus["区住建局"]
    assigned(j, bureau)
    assigned(j, j.townships["将官池镇"], assisting=[bureau])
    # when
    with pytest.raises(AdminRefused) as refused:
        unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    # then: named with its counts and where the office sees them; the unit stays on
    assert refused.value.message == (
        "区住建局不能停用：承办建安区未办结的信访件2件（主办1件、协办1件），"
        "受理机关可在信访台账中按承办单位“区住建局”查看，须先办结，或由受理机关在"
        "“工作移交”页面（台账 › 工作移交，或 xinfang handover 命令）改派给其他单位。")
    bureau.refresh_from_db()
    assert bureau.is_active


def test_the_refusal_is_shown_on_the_units_page(jianan):
    j = jianan
    bureau = j.bureaus["区住建局"]
    assigned(j, bureau)
    client = signed_in(j.member("sysadmin"))
    response = client.post(reverse("web:admin_unit_active", args=[bureau.pk]), {"active": "0"},
                           follow=True)
    assert "区住建局不能停用：承办建安区未办结的信访件1件" in response.content.decode()
    bureau.refresh_from_db()
    assert bureau.is_active


def test_a_unit_whose_cases_went_to_discipline_may_be_switched_off(jianan):
    j = jianan
    bureau = j.bureaus["区住建局"]
    case = assigned(j, bureau)
    perform("transfer_to_discipline", case=case, by=j.member("clerk"), unit=j.discipline,
            reason="反映干部违纪", receiver_name="吴刚", at=sh(2026, 9, 14, 15))
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    bureau.refresh_from_db()
    assert not bureau.is_active
    # the case's history still names the unit it was first assigned to
    assert CaseEvent.objects.get(case=case, type="assign").payload["lead"] == "区住建局"


def test_a_unit_with_an_unanswered_supervision_order_is_not_switched_off(jianan):
    j = jianan
    bureau = j.bureaus["区医保局"]
    due = timezone.localdate() + timedelta(days=5)
    oversight.order_issue(by=j.member("inspector"), unit=bureau, matter="报送整改台账",
                          due_on=due)
    with pytest.raises(AdminRefused, match="区医保局不能停用：有1份督办单尚未答复。"):
        unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)


def test_a_petition_office_with_open_cases_is_not_switched_off(jianan):
    # given: a street office of its own, one open and one declined case, its clerk's role withdrawn
    j = jianan
    street = unit_create(by=j.member("sysadmin"), name="魏都街道", level="township",
                         kind="township", parent=j.county, short_name="魏都",
                         profile_code="jianan")
    clerk = membership_grant(by=j.member("secadmin"), user=j.member("clerk").user, unit=street,
                             role="clerk")
    j.members["clerk"] = clerk
    register_in(j, township=None, village=None)
    declined = register_in(j, township=None, village=None)
    perform("decline", case=declined, by=clerk, reason="不属于信访事项", guidance="向法院起诉",
            at=sh(2026, 9, 14, 11))
    membership_revoke(by=j.member("secadmin"), membership=clerk)
    # when / then: the declined case does not hold it, the open one does
    with pytest.raises(AdminRefused, match="魏都街道不能停用：是1件未办结信访件的受理机关。"):
        unit_set_active(by=j.member("sysadmin"), unit=street, active=False)


def test_a_supervision_order_to_a_switched_off_unit_is_refused(jianan):
    j = jianan
    bureau = j.bureaus["区教育局"]
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    with pytest.raises(Invalid) as refused:
        oversight.order_issue(by=j.member("inspector"), unit=bureau, matter="报送整改台账",
                              due_on=timezone.localdate() + timedelta(days=5))
    assert refused.value.errors == {"unit": "区教育局已停用，不能督办"}


def test_a_unit_responsible_for_an_unresolved_backlog_case_is_not_switched_off(jianan):
    # given: an imported backlog line (积案) in the care of 区农业农村局
    j, now = jianan, timezone.now()
    bureau = j.bureaus["区农业农村局"]
    line = BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", designated_at=now, responsible_unit=bureau)
    with pytest.raises(AdminRefused, match="是1件未化解积案的责任单位，受理机关可在积案台账中查看"):
        unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    # once resolved, it no longer holds the unit
    BacklogCase.objects.filter(pk=line.pk).update(resolved_at=now, outcome="已息诉")
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    bureau.refresh_from_db()
    assert not bureau.is_active


def test_doctor_names_a_unit_switched_off_before_with_open_work(jianan, capsys):
    # given: 区住建局 switched off by hand (or before the units page asked) while leading a case
    j = jianan
    bureau = j.bureaus["区住建局"]
    assigned(j, bureau)
    call_command("doctor")
    assert "✓ 单位：已停用的单位均无未办结的工作。" in capsys.readouterr().out
    Unit.objects.filter(pk=bureau.pk).update(is_active=False)
    # when
    call_command("doctor")
    # then
    out = capsys.readouterr().out
    assert "! 单位：1个已停用的单位仍有未办结的工作" in out
    assert "区住建局：承办建安区未办结的信访件1件（主办1件、协办0件）" in out


def test_a_closed_case_whose_unit_was_switched_off_is_not_reopened_onto_it(jianan):
    # given: a case 区民政局 handled, closed; then 区民政局 merged away (its member's role
    # withdrawn, the unit switched off: nothing open held it)
    j = jianan
    bureau = j.bureaus["区民政局"]
    case = walk(j, "closed", lead="区民政局", assisting=())
    membership_revoke(by=j.member("secadmin"), membership=j.member("bureau"))
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=False)
    events = case.events.count()
    # when the petitioner comes back (反弹)
    with pytest.raises(Refused, match="承办单位区民政局已停用，本件无法交其重新办理"):
        perform("reopen", case=case, by=j.member("approver"), reason="补助仍未发放")
    # then the case stays closed, its history unchanged
    case.refresh_from_db()
    assert case.state == "closed" and case.events.count() == events
    # switched on again (and staffed), the case reopens to it
    unit_set_active(by=j.member("sysadmin"), unit=bureau, active=True)
    case = perform("reopen", case=case, by=j.member("approver"), reason="补助仍未发放")
    assert case.state == "in_progress"
