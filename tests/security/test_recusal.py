"""A staff member connected to the petitioner or the matter recuses (seed 000 §九): the system
refuses to let them act on, or even see, such a case, and says why."""

import pytest
from django.core.management import call_command

from tests.api.world import walk
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import perform, refusal
from xinfang.security.models import Recusal
from xinfang.security.services import recusal_declare, recusal_withdraw

pytestmark = pytest.mark.django_db


def test_a_recused_approver_can_neither_see_nor_sign_the_case(jianan):
    case = walk(jianan, "proposed")
    approver = jianan.member("approver")
    recusal_declare(user=approver.user, case=case, reason="信访人系本人亲属")
    assert not cases_for(approver).filter(pk=case.pk).exists()
    assert "信访人系本人亲属" in refusal("sign_off", case=case, by=approver)
    with pytest.raises(Refused, match="您已申报回避：信访人系本人亲属"):
        perform("sign_off", case=case, by=approver)
    assert AuditEntry.objects.filter(action="permission_change",
                                     detail__change="recusal_declared").exists()


def test_a_matter_recusal_covers_every_case_about_it(jianan):
    township = jianan.member("township")
    recusal_declare(user=township.user, matter_words="危房改造", reason="本人负责该村危房改造验收")
    case = walk(jianan, "assigned")
    assert "危房改造" in case.matter
    assert not cases_for(township).filter(pk=case.pk).exists()
    with pytest.raises(Refused, match="回避"):
        perform("sign_for", case=case, by=township)


def test_the_command_declares_lists_and_withdraws(jianan, capsys):
    case = walk(jianan, "registered")
    call_command("recusal", "declare", "clerk", "--case", case.number, "--reason", "同村邻居")
    r = Recusal.objects.get()
    call_command("recusal", "list")
    assert "同村邻居" in capsys.readouterr().out
    call_command("recusal", "withdraw", str(r.pk), "--reason", "已调离该村")
    r.refresh_from_db()
    assert not r.is_active
    assert cases_for(jianan.member("clerk")).filter(pk=case.pk).exists()


def test_a_recusal_must_say_what_and_why(jianan):
    with pytest.raises(Refused) as bad:
        recusal_declare(user=jianan.member("clerk").user, reason="亲属")
    assert bad.value.field == "case"


def test_a_recusal_declared_twice_is_on_record_once_and_withdrawn_at_once(jianan):
    # given a clerk's declaration sent twice (a double click, a retried request)
    case = walk(jianan, "registered")
    clerk = jianan.member("clerk")
    first = recusal_declare(user=clerk.user, case=case, reason="同村邻居", by=clerk)
    again = recusal_declare(user=clerk.user, case=case, reason="同村邻居", by=clerk)
    # then one recusal is on record, declared once
    assert again.pk == first.pk and Recusal.objects.filter(is_active=True).count() == 1
    assert AuditEntry.objects.filter(detail__change="recusal_declared").count() == 1
    # and the leader's withdrawal of it gives the clerk the case back
    recusal_withdraw(recusal=first, by=jianan.member("approver"), reason="已调离该村")
    assert cases_for(clerk).filter(pk=case.pk).exists()
    # the same case with another reason is refused, naming the recusal on record
    recusal_declare(user=clerk.user, case=case, reason="同村邻居", by=clerk)
    with pytest.raises(Refused, match="同村邻居") as other:
        recusal_declare(user=clerk.user, case=case, reason="远房亲戚", by=clerk)
    assert other.value.field == "case"
