"""Who keeps which register line: a township enters and updates its own screening findings and
not another's; the office sees and keeps all; a backlog line is resolved with its outcome by the
office's leaders; a case the profile sends to the backlog register appears there by itself, once."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import register_in, sh
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services import Invalid, perform
from xinfang.cases.services.supervision import sweep
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.registers.backlog import backlog_sweep, period_before
from xinfang.registers.models import BacklogCase
from xinfang.registers.selectors import backlog_for, findings_for, roster_for
from xinfang.registers.services import (
    Finding,
    backlog_designate,
    backlog_resolve,
    backlog_update,
    roster_upsert,
    screening_record,
    screening_update,
)

pytestmark = pytest.mark.django_db


def finding(j, by, township="将官池镇", village="岗朱村", name="周大勇"):
    return screening_record(by=by, finding=Finding(
        screened_on=date(2026, 10, 12), township=j.townships[township],
        village=j.villages.get(village) if village else None, person_name=name,
        contact="13700001111", problem="反映产业帮扶资金分配不公", category="资金项目"))


def other_township(j) -> Membership:
    user = User.objects.create(username="zhanjian", full_name="冯远")
    return Membership.objects.create(user=user, unit=j.townships["椹涧乡"], role=Role.UNIT_HANDLER)


def test_a_township_enters_and_updates_its_own_findings_only(jianan):
    j = jianan
    ours, theirs = j.member("township"), other_township(j)
    mine = finding(j, ours)
    assert mine.jurisdiction == j.county and mine.recorded_by == ours.user
    with pytest.raises(Invalid) as wrong_place:
        finding(j, ours, township="椹涧乡", village="小河村")
    assert "township" in wrong_place.value.errors
    screening_update(by=ours, finding=mine, changes={"solved": True, "stable": True,
                                                     "note": "已解决"})
    mine.refresh_from_db()
    assert (mine.solved, mine.stable, mine.note, mine.updated_by) == (True, True, "已解决",
                                                                       ours.user)
    with pytest.raises(Refused):
        screening_update(by=theirs, finding=mine, changes={"stable": False})
    with pytest.raises(Invalid):
        screening_update(by=ours, finding=mine, changes={"jurisdiction": j.county})
    assert list(findings_for(theirs)) == []
    assert list(findings_for(ours)) == [mine]
    # the office sees all and keeps all; its inspector reads only
    theirs_row = finding(j, theirs, township="椹涧乡", village="小河村", name="钱多多")
    assert set(findings_for(j.member("clerk"))) == {mine, theirs_row}
    screening_update(by=j.member("clerk"), finding=theirs_row, changes={"guided": True})
    with pytest.raises(Refused):
        screening_update(by=j.member("inspector"), finding=mine, changes={"stable": False})
    # a bureau that is not the line's township sees nothing
    assert list(findings_for(j.member("bureau"))) == []
    changes = AuditEntry.objects.filter(action="register_change", object_type="screening")
    assert changes.count() == 4  # two recorded, the township's update and the office's
    assert all("周大勇" not in str(e.detail) for e in changes)


def test_names_are_encrypted_and_found_by_their_index(jianan):
    from django.db import connection

    from xinfang.security.names import name_index

    row = finding(jianan, jianan.member("clerk"), name="孙桂兰")
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_name, contact FROM registers_screeningfinding WHERE id=%s",
                       [row.pk])
        raw_name, raw_phone = cursor.fetchone()
    assert "孙桂兰" not in raw_name and "13700001111" not in raw_phone
    assert row.name_index == name_index("孙 桂兰")


def test_the_roster_line_is_kept_by_its_unit_or_the_office(jianan):
    j = jianan
    ours, theirs = j.member("township"), other_township(j)
    line = roster_upsert(by=ours, unit=j.townships["将官池镇"], leader_name="刘海",
                         leader_position="副镇长", clerk_name="陈晓东")
    with pytest.raises(Invalid):
        roster_upsert(by=ours, unit=j.townships["椹涧乡"], leader_name="x", leader_position="y",
                      clerk_name="z")
    assert list(roster_for(theirs)) == [] and list(roster_for(ours)) == [line]
    assert list(roster_for(j.member("clerk"))) == [line]


def designate(j, case=None):
    approver = j.member("approver")
    return backlog_designate(by=approver, case=case or register_in(j), owner_leader=approver.user,
                             reason="多次重复访", plan="包案化解", plan_deadline=date(2026, 12, 31))


def test_a_backlog_line_is_kept_by_its_responsible_unit_and_resolved_by_a_leader(jianan):
    j = jianan
    township, theirs = j.member("township"), other_township(j)
    old = BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", responsible_unit=j.townships["将官池镇"], designated_at=sh(2026, 1, 1))
    backlog_update(by=township, backlog=old, changes={"stable": True})
    assert list(backlog_for(township)) == [old] and list(backlog_for(theirs)) == []
    # a line tied to a case is seen by the responsible unit only where it sees the case
    case = register_in(j)
    line = designate(j, case)
    line.responsible_unit = j.townships["将官池镇"]
    line.save()
    assert line not in backlog_for(township)
    backlog_update(by=j.member("clerk"), backlog=line, changes={"assisted": True})
    with pytest.raises(Refused):
        backlog_update(by=theirs, backlog=old, changes={"stable": False})
    with pytest.raises(Refused):
        backlog_resolve(by=township, backlog=line, outcome="已化解")
    with pytest.raises(Refused):
        backlog_resolve(by=j.member("clerk"), backlog=line, outcome="已化解")
    with pytest.raises(Invalid):
        backlog_resolve(by=j.member("approver"), backlog=line, outcome=" ")
    done = backlog_resolve(by=j.member("approver"), backlog=line, outcome="补助已发放，息诉罢访",
                           at=sh(2026, 11, 20, 9))
    assert (done.resolved_at, done.outcome, done.stable) == (sh(2026, 11, 20, 9),
                                                              "补助已发放，息诉罢访", True)
    assert case.events.filter(type="backlog_resolved").count() == 1
    with pytest.raises(Refused):
        backlog_resolve(by=j.member("approver"), backlog=line, outcome="再次")


def test_the_profile_names_who_keeps_the_backlog_register(jianan):
    # jianan: 积案台账 kept by the poverty office and the townships (registers.backlog.by,
    # seed 001 二(三)); a bureau responsible for a line reads it but does not write it.
    from xinfang.registers.services import backlog_progress

    j = jianan
    line = BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", responsible_unit=j.bureaus["区民政局"], designated_at=sh(2026, 1, 1))
    bureau = j.member("bureau")
    assert list(backlog_for(bureau)) == [line]
    with pytest.raises(Refused, match="只能查看"):
        backlog_update(by=bureau, backlog=line, changes={"stable": True})
    with pytest.raises(Refused, match="只能查看"):
        backlog_progress(by=bureau, backlog=line, text="已入户")
    backlog_update(by=j.member("clerk"), backlog=line, changes={"stable": True})  # the office


def repeat_case(j):
    case = register_in(j)
    Case.objects.filter(pk=case.pk).update(repeat_count=1)
    return Case.objects.get(pk=case.pk)


def test_a_leader_owned_repeat_enters_the_backlog_register_by_itself_once(jianan):
    j = jianan
    case = repeat_case(j)
    approver = j.member("approver")
    perform("set_leader_owner", case=case, by=approver, leader=approver.user,
            at=sh(2026, 9, 15, 9))
    line = BacklogCase.objects.get(case=case)
    assert line.entry == BacklogCase.Entry.LEADER_REPEAT
    assert line.owner_leader == approver.user and "第2次信访" in line.reason
    assert line.jurisdiction == j.county and line.problem == case.matter
    assert backlog_sweep(at=sh(2026, 9, 16)) == 0  # idempotent
    assert BacklogCase.objects.filter(case=case).count() == 1


def test_a_plain_leader_owned_case_stays_off_until_it_becomes_a_repeat(jianan):
    j = jianan
    case = register_in(j)
    approver = j.member("approver")
    perform("set_leader_owner", case=case, by=approver, leader=approver.user,
            at=sh(2026, 9, 15, 9))
    assert not BacklogCase.objects.filter(case=case).exists()
    Case.objects.filter(pk=case.pk).update(repeat_count=1)
    assert sweep(at=sh(2026, 9, 16)).backlog == 1
    assert BacklogCase.objects.get(case=case).entry == BacklogCase.Entry.LEADER_REPEAT
    assert case.events.filter(type="backlog_entered").count() == 1


def test_a_case_unsettled_after_the_profiles_period_enters_at_the_sweep(jianan):
    j = jianan
    case = register_in(j)
    Case.objects.filter(pk=case.pk).update(accepted_at=sh(2026, 9, 15, 10))
    assert backlog_sweep(at=sh(2026, 12, 15, 9)) == 0  # jianan: a quarter, not yet
    assert backlog_sweep(at=sh(2026, 12, 15, 11)) == 1
    line = BacklogCase.objects.get(case=case)
    assert line.entry == BacklogCase.Entry.UNSETTLED and "一个季度" in line.reason
    assert backlog_sweep(at=sh(2026, 12, 16)) == 0
    # the leader completes the line the profile sent with owner, cause and plan — once
    completed = designate(j, Case.objects.get(pk=case.pk))
    assert completed.pk == line.pk and completed.plan == "包案化解"
    assert completed.entry == BacklogCase.Entry.UNSETTLED
    with pytest.raises(Refused):
        designate(j, Case.objects.get(pk=case.pk))
    # a closed case never enters
    closed = register_in(j)
    Case.objects.filter(pk=closed.pk).update(accepted_at=sh(2026, 1, 5), state="closed")
    assert backlog_sweep(at=sh(2026, 12, 16)) == 0


def test_the_sweep_enters_many_cases_in_the_same_few_statements_sealed_once(jianan):
    # issue 9: at a million cases the first sweep sends thousands of cases to the register
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.audit.history import history_verify
    from xinfang.cases.models import CaseEvent

    def unsettled(n: int) -> list[int]:
        ids = [register_in(jianan).pk for _ in range(n)]
        Case.objects.filter(pk__in=ids).update(accepted_at=sh(2026, 1, 5))
        return ids

    def entering(at) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as seen:
            entered = backlog_sweep(at=at)
        return entered, len(seen)

    # given cases left unsettled past jianan's quarter, one of them a repeat of another
    few = unsettled(2)
    Case.objects.filter(pk=few[1]).update(repeat_of=few[0], matter_root=few[0], repeat_count=1)
    heads = {pk: CaseEvent.objects.filter(case_id=pk).order_by("-seq")[0].seq for pk in few}
    # when the sweep sends 2, then 9 of them to the register
    small = entering(sh(2026, 12, 1))
    many = unsettled(9)
    large = entering(sh(2026, 12, 2))
    # then the statements do not grow with the cases
    assert (small[0], large[0]) == (2, 9)
    assert large[1] == small[1], (small, large)
    # and each line takes its case's columns, its first visit the first of the matter
    first, repeat = (BacklogCase.objects.get(case_id=pk) for pk in few)
    received = Case.objects.get(pk=few[0]).received_at
    assert first.first_petition_on == repeat.first_petition_on == received.date()
    assert first.entry == BacklogCase.Entry.UNSETTLED and "一个季度" in first.reason
    assert first.problem == Case.objects.get(pk=few[0]).matter
    # and each case's history has its one entry, chained after its last, by the system
    for pk in few:
        (entry,) = CaseEvent.objects.filter(case_id=pk, type="backlog_entered")
        assert entry.seq == heads[pk] + 1 and entry.actor_role == "system"
    assert CaseEvent.objects.filter(case_id__in=many, type="backlog_entered").count() == 9
    assert history_verify().ok
    # and a second sweep enters nothing again
    assert backlog_sweep(at=sh(2026, 12, 3)) == 0


def test_a_line_designated_meanwhile_is_not_entered_twice(jianan, monkeypatch):
    # a leader designating the case (without the case's lock) while the sweep's batch inserts:
    # the register's one-to-one link keeps the leader's line, the sweep writes no entry for it
    from xinfang.cases.models import CaseEvent
    from xinfang.registers import services

    case = register_in(jianan)
    Case.objects.filter(pk=case.pk).update(accepted_at=sh(2026, 1, 5))
    columns = services.case_columns_many

    def designated_meanwhile(cases):
        monkeypatch.setattr(services, "case_columns_many", columns)
        designate(jianan, Case.objects.get(pk=case.pk))
        return columns(cases)

    monkeypatch.setattr(services, "case_columns_many", designated_meanwhile)
    assert backlog_sweep(at=sh(2026, 12, 1)) == 0
    assert BacklogCase.objects.get(case=case).entry == BacklogCase.Entry.DESIGNATED
    assert not CaseEvent.objects.filter(case=case, type="backlog_entered").exists()


def test_a_profile_without_a_backlog_register_sends_nothing(jurisdiction):
    lihai = jurisdiction("lihai")
    case = register_in(lihai)
    Case.objects.filter(pk=case.pk).update(accepted_at=sh(2025, 1, 1), repeat_count=3,
                                           leader_owner=lihai.member("approver").user)
    assert backlog_sweep(at=sh(2026, 12, 1)) == 0


def test_period_before_counts_calendar_months():
    assert period_before(sh(2026, 5, 31, 8), "quarter") == sh(2026, 2, 28, 8)
    assert period_before(sh(2026, 1, 10), "month") == sh(2025, 12, 10)
    assert period_before(sh(2026, 1, 10), "week") == sh(2026, 1, 3)


def test_the_profile_names_who_keeps_the_screening_register(jianan):
    # jianan's screening register is kept by townships and bureaus (registers.by): a village
    # that is not among them is told so, at the township field, and nothing is saved.
    from xinfang.cases.services.base import Invalid
    from xinfang.registers.models import ScreeningFinding

    user = User.objects.create(username="gangzhu", full_name="村干部")
    village = Membership.objects.create(
        user=user, unit=jianan.villages["岗朱村"], role=Role.UNIT_HANDLER)
    with pytest.raises(Invalid) as refused:
        finding(jianan, village)
    assert "不在其列" in refused.value.errors["township"]
    assert not ScreeningFinding.objects.exists()
    assert finding(jianan, jianan.member("township")).pk  # a township is a keeper


def test_a_bureau_records_the_findings_of_its_line_and_keeps_them(jianan):
    # jianan: 排查台账 is kept by townships and bureaus (seed 001 二(一), registers.by)
    j = jianan
    bureau = j.member("bureau")  # 区民政局
    row = finding(j, bureau)
    # it is the responsible unit of what it screened, wherever the finding is located
    assert (row.jurisdiction, row.responsible_unit) == (j.county, bureau.unit)
    assert list(findings_for(bureau)) == [row]
    screening_update(by=bureau, finding=row, changes={"assisted": True, "stable": True})
    row.refresh_from_db()
    assert (row.assisted, row.updated_by) == (True, bureau.user)
    # the township it is located in sees it too; another bureau does not
    assert list(findings_for(j.member("township"))) == [row]
    user = User.objects.create(username="jiaoyu", full_name="教育局经办")
    other = Membership.objects.create(user=user, unit=j.bureaus["区教育局"],
                                      role=Role.UNIT_HANDLER)
    assert list(findings_for(other)) == []
    with pytest.raises(Refused):
        screening_update(by=other, finding=row, changes={"stable": False})
    # naming another unit responsible is refused at its field, and nothing is saved
    with pytest.raises(Invalid) as named:
        screening_record(by=bureau, finding=Finding(
            screened_on=date(2026, 10, 12), township=j.townships["将官池镇"], person_name="王五",
            problem="反映低保", category="低保", responsible_unit=j.bureaus["区教育局"]))
    assert "responsible_unit" in named.value.errors
    assert findings_for(j.member("clerk")).count() == 1
