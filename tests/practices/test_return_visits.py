"""Seed 004 §二(一) "信访事项每件一回访": one return visit per case once the reply is delivered —
who, when, how, the outcome and the satisfaction; counted per lead unit on the supervision page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import sh
from tests.web.conftest import walk
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import CaseEvent, Contact
from xinfang.cases.selectors import cases_for
from xinfang.practices.models import ReturnVisit
from xinfang.practices.reading import owed_return_visits, return_visit_counts
from xinfang.practices.services import Invalid, Refused, return_visit_record

pytestmark = pytest.mark.django_db


def other_township(j):
    from xinfang.org.choices import Role
    from xinfang.org.models import Membership, User

    user = User.objects.create(username="zhanjian", full_name="冯远")
    return Membership.objects.create(user=user, unit=j.townships["椹涧乡"], role=Role.UNIT_HANDLER)


def record(by, case, **extra):
    args = dict(
        by=by,
        case_id=case.pk,
        visited_at=sh(2026, 10, 12, 9, 0),
        method="phone",
        outcome="accepted",
        satisfaction="satisfied",
        note="认可处理意见",
    )
    args.update(extra)
    return return_visit_record(**args)


def test_a_delivered_case_is_owed_one_return_visit_and_the_visit_is_in_its_history(
    jianan, delivered
):
    j = jianan
    township = j.member("township")
    assert list(owed_return_visits(cases_for(township))) == [delivered]
    visit = record(township, delivered)
    assert (visit.visited_by, visit.visitor_unit, visit.lead_unit) == (
        township.user,
        j.townships["将官池镇"],
        j.townships["将官池镇"],
    )
    assert list(owed_return_visits(cases_for(township))) == []
    event = CaseEvent.objects.filter(case=delivered, type="return_visit_recorded").get()
    assert event.payload["rating"] == "satisfied" and event.actor_id == township.user_id
    # the contact the closing rule counts (closing.requires: return_visit)
    assert Contact.objects.filter(case=delivered, kind="return_visit").count() == 1
    assert AuditEntry.objects.filter(action="practice_change", object_type="return_visit").exists()
    with pytest.raises(Refused, match="每件信访事项回访一次"):
        record(j.member("clerk"), delivered)
    assert ReturnVisit.objects.count() == 1


def test_a_case_not_yet_delivered_cannot_be_visited(jianan, fresh):
    case = walk(jianan, fresh(), "in_progress")
    with pytest.raises(Refused, match="尚未送达"):
        record(jianan.member("township"), case)


def test_fields_are_named_when_wrong(jianan, delivered):
    with pytest.raises(Invalid) as e:
        record(
            jianan.member("township"),
            delivered,
            method="letter",
            satisfaction="",
            visited_at=timezone.now() + timedelta(days=1),
        )
    assert set(e.value.errors) == {"satisfaction"}
    with pytest.raises(Invalid) as e:
        record(
            jianan.member("township"),
            delivered,
            method="letter",
            visited_at=timezone.now() + timedelta(days=1),
        )
    assert set(e.value.errors) == {"method", "visited_at"}


def test_only_who_sees_the_case_records_it_and_inspectors_only_read(jianan, delivered):
    j = jianan
    with pytest.raises(Refused):
        record(j.member("inspector"), delivered)
    with pytest.raises(Refused, match="主办单位"):
        record(j.member("bureau"), delivered)  # the assisting bureau sees it, but did not lead
    with pytest.raises(Invalid, match="无权查看"):
        record(other_township(j), delivered)
    with pytest.raises(Refused):
        record(j.member("sysadmin"), delivered)


def test_satisfaction_is_counted_per_lead_unit(jianan, fresh):
    j = jianan
    a, b = walk(j, fresh(), "delivered"), walk(j, fresh(), "delivered")
    record(j.member("township"), a, satisfaction="satisfied")
    record(j.member("clerk"), b, satisfaction="unsatisfied", outcome="pending")
    counts = return_visit_counts(j.county)
    assert counts == {j.townships["将官池镇"].pk: {"visits": 2, "satisfied": 1}}


def test_a_delivered_reply_is_kept_on_the_case_and_a_refused_one_is_not(jianan, fresh):
    """``reply_delivered_at``: when the decision letter reached the petitioner, the order of the
    return visits owed; a refusal before a witness serves the letter but is no reply received."""
    from xinfang.cases.services import perform

    delivered = walk(jianan, fresh(), "delivered")
    assert delivered.reply_delivered_at == sh(2026, 10, 9, 10)
    issued = walk(jianan, fresh(), "letter_issued")
    refused = perform("record_delivery", case=issued, by=jianan.member("clerk"),
                      mode="in_person", delivered_at=sh(2026, 10, 10, 10), deliverer="陈晓东",
                      recipient="张三明", receipt_signed=False, refused=True,
                      refusal_reason="拒绝签收", witness="村委会主任王强")
    assert refused.state == "delivered" and refused.reply_delivered_at is None
    owed = list(owed_return_visits(cases_for(jianan.member("clerk"))))
    assert set(owed) == {delivered, refused}


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_kept_reply_from_the_deliveries(jianan, fresh):
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from xinfang.cases.models import Case

    delivered = walk(jianan, fresh(), "delivered")
    walk(jianan, fresh(), "letter_issued")  # no delivery: stays empty
    Case.objects.update(reply_delivered_at=None)
    migration = importlib.import_module("xinfang.cases.migrations.0032_case_reply_delivered_at")
    migration.fill(None, SimpleNamespace(connection=connection))
    kept = dict(Case.objects.values_list("pk", "reply_delivered_at"))
    assert kept[delivered.pk] == sh(2026, 10, 9, 10)
    assert [pk for pk, at in kept.items() if at is not None] == [delivered.pk]
