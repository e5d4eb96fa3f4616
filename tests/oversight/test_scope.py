"""The oversight lists (orders, rectifications, proxy marks, report-backs owed a verification)
go through the permission door case by case: a user recused from a case, or inside the unit
the case accuses, no longer sees its order, rectification or proxy mark, and the same lists
hold them for everyone else (issue 9 moved them from a read of the door's whole scope to a
probe per row)."""

from datetime import date

import pytest

from tests.conftest import sh
from xinfang.cases.models import Respondent
from xinfang.oversight import selectors as sel
from xinfang.oversight import services as svc
from xinfang.security.models import Recusal

from .test_services import all_ok

pytestmark = pytest.mark.django_db


def test_a_recused_user_no_longer_sees_the_cases_order_or_rectification(kaijiang, closed_case):
    j, case = kaijiang, closed_case
    inspector, clerk = j.member("inspector"), j.member("clerk")
    order = svc.order_issue(by=inspector, case=case, matter="请报告补助发放凭证",
                            due_on=date(2026, 10, 15), at=sh(2026, 10, 10, 9))
    svc.review_record(by=clerk, case=case, results=all_ok(delivery="回证未注明送达时间"),
                      rectify_by=date(2026, 10, 20), at=sh(2026, 10, 10, 9))
    assert [o.pk for o in sel.orders_page(sel.orders_for(clerk))] == [order.pk]
    assert sel.rectifications_for(clerk).count() == 1
    assert sel.rectifications_for(j.member("bureau")).count() == 1  # addressed to it

    Recusal.objects.create(user=clerk.user, case=case, reason="亲属")
    assert sel.orders_page(sel.orders_for(clerk)) == []
    assert not sel.rectifications_for(clerk).exists()
    assert [o.pk for o in sel.orders_page(sel.orders_for(inspector))] == [order.pk]

    # the handling unit accused in the case: its staff see neither any longer
    bureau = j.member("bureau")
    Respondent.objects.create(case=case, unit=bureau.unit, name=bureau.unit.name)
    assert not sel.orders_to_answer(bureau).exists()
    assert not sel.rectifications_for(bureau).exists()
    assert sel.rectifications_for(inspector).count() == 1


def test_a_proxy_mark_is_listed_only_for_whom_may_see_its_case(lihai, lihai_case):
    j = lihai
    svc.proxy_take(by=j.member("clerk"), case=lihai_case, agent=j.member("proxy"),
                   helps=["帮困难解决"])
    clerk = j.member("clerk")
    assert [p.case_id for p in sel.proxies_in(clerk)] == [lihai_case.pk]
    Recusal.objects.create(user=clerk.user, matter_words=lihai_case.matter[:4], reason="利害关系")
    assert sel.proxies_in(clerk) == []
    assert [p.case_id for p in sel.proxies_in(j.member("inspector"))] == [lihai_case.pk]


def test_a_report_back_owed_a_verification_is_hidden_from_a_recused_inspector(
        henan, reported_case):
    inspector = henan.member("inspector")
    assert sel.verifications_owed(inspector).get() == reported_case
    Recusal.objects.create(user=inspector.user, case=reported_case, reason="亲属")
    assert not sel.verifications_owed(inspector).exists()
