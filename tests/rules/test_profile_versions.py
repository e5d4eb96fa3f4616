"""Profile versions: a raised version is installed and used by new cases; open cases keep the
version they were accepted under until an administrator migrates them, with the clocks that move
listed, recomputed, and written in each case's history; mistakes are named by line and key."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import id_number, register_in, sh
from tests.rules.walking import Walk, delivered_referral
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Case, CaseEvent, Clock
from xinfang.cases.services import PetitionerInput
from xinfang.rules.models import ProfileVersion
from xinfang.rules.profile import ProfileError
from xinfang.rules.store import current_version, profile_of
from xinfang.rules.versions import (
    PROFILE_MIGRATED,
    migration_plan,
    profile_install,
    profile_migrate,
    profile_sync,
    shipped_states,
)
from xinfang.web.admin_services import unit_update

pytestmark = pytest.mark.django_db

SHIPPED = Path(settings.XINFANG_PROFILE_DIR)


def jianan_text() -> str:
    return (SHIPPED / "jianan.yaml").read_text(encoding="utf-8")


def shipped_version(code: str) -> int:
    text = (SHIPPED / f"{code}.yaml").read_text(encoding="utf-8")
    return int(re.search(r"^version: (\d+)$", text, flags=re.M).group(1))


V = shipped_version("jianan")  # the shipped version, whatever it is now
NEXT = V + 1


def raised_jianan(version: int = NEXT, first_contact_days: int = 2) -> str:
    """jianan with its version raised and the first-petition contact limit changed (1 → N days)."""
    text = re.sub(r"^version: \d+$", f"version: {version}", jianan_text(), flags=re.M)
    head, sep, rest = text.partition("  - name: first_contact\n")
    rest = rest.replace("    amount: 1\n", f"    amount: {first_contact_days}\n", 1)
    return head + sep + rest


def another(i: int) -> list[PetitionerInput]:
    """A petitioner of their own, so the case is a first petition (初信初访) too."""
    return [
        PetitionerInput(name=f"李{'一二三四五'[i]}", id_number=id_number(f"41102319900101{i:03d}"))
    ]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def first_contact(case: Case) -> Clock:
    return case.clocks.get(name="first_contact")


# --- install and upgrade ------------------------------------------------------------------------


def test_the_newest_version_is_asked_for_each_time_and_its_texts_read_once(jianan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    current_version("jianan")  # the first use may install the shipped file
    first = current_version("jianan")
    # when: read again (a page, a registration)
    with CaptureQueriesContext(connection) as read:
        again = current_version("jianan")
    # then: one statement asks which version is newest, without the texts
    assert again is first
    assert len(read) == 1 and '"text"' not in read[0]["sql"] and '"parents"' not in read[0]["sql"]
    # and a version installed since is the one answered at once
    profile_install(text=raised_jianan(), source="jianan-v3.yaml", by=jianan.member("sysadmin"),
                    ip="1.2.3.4")
    assert current_version("jianan").version == NEXT


def test_a_raised_version_is_used_by_new_cases_and_open_cases_keep_theirs(jianan):
    # given: a case accepted under the shipped version V (first contact within 1 day)
    old_case = register_in(jianan)
    assert (old_case.profile.code, old_case.profile.version) == ("jianan", V)
    old_due = first_contact(old_case).due_at
    admin = jianan.member("sysadmin")

    # when: the administrator installs version V+1 (2 days)
    result = profile_install(text=raised_jianan(), source="jianan-v3.yaml", by=admin, ip="1.2.3.4")

    # then: stored, audited, and new cases run under it
    assert result.created and result.previous.version == V
    assert result.open_cases_on_older == 1
    assert current_version("jianan").version == NEXT
    entry = AuditEntry.objects.get(action="profile_change", detail__change="profile_install")
    assert entry.detail["version"] == NEXT and entry.detail["previous"] == V
    assert entry.actor_id == admin.user_id and entry.ip == "1.2.3.4"
    new_case = register_in(jianan, matter="另一件：反映低保未落实", petitioners=another(1))
    assert new_case.profile.version == NEXT
    assert first_contact(new_case).amount == 2
    assert first_contact(new_case).due_at == sh(2026, 9, 17)
    # and the open case keeps version V and its clock
    old_case.refresh_from_db()
    assert old_case.profile.version == V
    assert first_contact(old_case).due_at == old_due == sh(2026, 9, 16)
    assert profile_of(old_case.profile).clock("first_contact").amount == 1


def test_migrating_open_cases_lists_the_clocks_that_move_and_writes_one_history_entry_each(
    jianan,
):
    # given: two open cases under version V and one closed-out (declined) case
    a = register_in(jianan)
    b = register_in(jianan, matter="反映低保未落实", petitioners=another(1))
    declined = register_in(jianan, matter="反映与扶贫无关的邻里纠纷", petitioners=another(2))
    Case.objects.filter(pk=declined.pk).update(state="declined")
    v3 = profile_install(text=raised_jianan(), source="jianan-v3.yaml").row
    admin = jianan.member("sysadmin")

    # when: the administrator looks at the plan
    plan = migration_plan(target=v3)

    # then: both open cases, each with its first-contact clock moving by one day
    assert [c.case.pk for c in plan.cases] == [a.pk, b.pk]
    move = next(m for m in plan.cases[0].moves if m.name == "first_contact")
    assert (move.old_due, move.new_due) == (sh(2026, 9, 16), sh(2026, 9, 17))
    assert (move.old_limit, move.new_limit) == ((1, "days"), (2, "days"))
    assert plan.clocks_moved == 2
    assert first_contact(a).due_at == sh(2026, 9, 16)  # a plan changes nothing

    # when: they migrate
    done = profile_migrate(target=v3, by=admin, ip="1.2.3.4", at=sh(2026, 9, 14, 15))

    # then: the cases run under version V+1 with the clock recomputed …
    assert len(done.cases) == 2
    for case in (a, b):
        case.refresh_from_db()
        assert case.profile == v3
        clock = first_contact(case)
        assert (clock.due_at, clock.amount) == (sh(2026, 9, 17), 2)
        assert case.next_due_at <= clock.due_at
        event = case.events.get(type=PROFILE_MIGRATED)
        assert (event.profile_code, event.profile_version) == ("jianan", NEXT)
        assert event.payload["from_version"] == V and event.payload["to_version"] == NEXT
        assert event.actor_role == "sysadmin" and event.at == sh(2026, 9, 14, 15)
        moved = {c["clock"]: c for c in event.payload["clocks"]}
        assert moved["first_contact"]["new_due"] == "2026-09-17T00:00:00+08:00"
    # … the declined case keeps its version, and the migration is audited once
    declined.refresh_from_db()
    assert declined.profile.version == V
    assert not declined.events.filter(type=PROFILE_MIGRATED).exists()
    entry = AuditEntry.objects.get(detail__change="profile_migrate")
    assert entry.detail["cases"] == 2 and entry.detail["clocks_moved"] == 2
    # a second administrator migrating again finds nothing left to move
    assert profile_migrate(target=v3, by=admin).cases == []
    assert CaseEvent.objects.filter(type=PROFILE_MIGRATED).count() == 2


def test_migrating_keeps_an_extension_to_the_day_it_was_approved_for(jianan):
    # given: the handling clock (60 days from the receipt on 09-16: 11-16 24时) extended to the
    # day asked, 12-04, short of the 30 days the rule would allow (12-16 24时)
    clerk, approver, township = (jianan.member(r) for r in ("clerk", "approver", "township"))
    walk = Walk(register_in(jianan, at=sh(2026, 9, 14, 10)))
    walk("propose", clerk, sh(2026, 9, 14, 11), proposal="交将官池镇")
    walk("sign_off", approver, sh(2026, 9, 14, 12))
    walk("assign", clerk, sh(2026, 9, 14, 13), lead=jianan.townships["将官池镇"],
         receiver_name="陈晓东")
    walk("sign_for", township, sh(2026, 9, 16, 9))
    walk("request_extension", township, sh(2026, 11, 9, 10), reason="需调取档案",
         progress_report="已调取2024年档案", expected_completion=date(2026, 12, 4))
    walk("approve_extension", approver, sh(2026, 11, 10, 9), note="同意延期至12月4日")
    assert walk.clock("handling").due_at == sh(2026, 12, 5)
    v3 = profile_install(text=raised_jianan(), source="jianan-v3.yaml").row

    # when: the case moves to a version that changes another clock (first contact)
    profile_migrate(target=v3, by=jianan.member("sysadmin"), at=sh(2026, 11, 11, 9))

    # then: the handling clock still ends on the day approved, not at the rule's cap, and the
    # history does not list it as moved
    assert walk.clock("handling").due_at == sh(2026, 12, 5)
    event = walk.case.events.get(type=PROFILE_MIGRATED)
    assert "handling" not in [c["clock"] for c in event.payload["clocks"]]


def test_migrating_leaves_a_weekly_batch_on_its_friday(jianan):
    # given: a city referral answered on Monday 2026-09-28, due in the weekly batch on Friday
    # 10-02 10:00 (seed 001 二(五))
    walk = delivered_referral(jianan, delivered_at=sh(2026, 9, 28, 15))
    batch = walk.clock("report_back:weekly_referral_batch")
    assert batch.due_at == sh(2026, 10, 2, 10)
    v3 = profile_install(text=raised_jianan(), source="jianan-v3.yaml").row

    # when: the case moves to a version that changes another clock
    profile_migrate(target=v3, by=jianan.member("sysadmin"), at=sh(2026, 9, 28, 16))

    # then: the batch is still due Friday 10:00, not at its own start (09-28 15:00: overdue at
    # once), and the history does not list it among the clocks that moved
    batch.refresh_from_db()
    assert batch.due_at == sh(2026, 10, 2, 10)
    event = walk.case.events.get(type=PROFILE_MIGRATED)
    assert "report_back:weekly_referral_batch" not in [c["clock"] for c in event.payload["clocks"]]


def test_a_clock_the_new_version_drops_is_kept_and_named_in_the_history(jianan):
    case = register_in(jianan)
    text = raised_jianan(first_contact_days=1)
    text = text.replace("  - name: first_contact\n", "  - name: first_call\n", 1)
    v3 = profile_install(text=text, source="jianan-v3.yaml").row

    profile_migrate(target=v3, at=sh(2026, 9, 14, 15))

    clock = first_contact(case)
    assert clock.status == "running" and clock.due_at == sh(2026, 9, 16)
    payload = case.events.get(type=PROFILE_MIGRATED).payload
    assert {"clock": "first_contact", "new_due": None}.items() <= next(
        c for c in payload["clocks"] if c["clock"] == "first_contact"
    ).items()


def renamed_contact_clock() -> str:
    """jianan raised, with its first-contact clock renamed: to a case accepted under the old
    version, ``first_call`` is a clock the new version adds."""
    text = raised_jianan(first_contact_days=1)
    return text.replace("  - name: first_contact\n", "  - name: first_call\n", 1)


def test_a_clock_the_new_version_adds_starts_at_the_past_event_that_starts_it(jianan):
    # given: a case received 09-14 09:30 and registered at 10:00 under version V
    case = register_in(jianan)
    v3 = profile_install(text=renamed_contact_clock(), source="jianan-v3.yaml").row

    # when: the plan is read, then the administrator migrates at 09-14 15:00
    plan = migration_plan(target=v3)
    move = next(m for m in plan.cases[0].moves if m.name == "first_call")
    assert move.started and move.started_at == sh(2026, 9, 14, 9, 30)
    assert (move.old_due, move.new_due) == (None, sh(2026, 9, 16))
    assert not case.clocks.filter(name="first_call").exists()  # a plan changes nothing
    profile_migrate(target=v3, at=sh(2026, 9, 14, 15))

    # then: it runs from the receipt (the registration event's instant), not from the migration:
    # 1 working day → 09-15 24时
    clock = case.clocks.get(name="first_call")
    assert clock.status == "running"
    assert (clock.started_at, clock.due_at) == (sh(2026, 9, 14, 9, 30), sh(2026, 9, 16))
    case.refresh_from_db()
    assert case.next_due_at == sh(2026, 9, 16)
    payload = case.events.get(type=PROFILE_MIGRATED).payload
    entry = next(c for c in payload["clocks"] if c["clock"] == "first_call")
    assert entry["started"] == "2026-09-14T09:30:00+08:00" and entry["old_due"] is None
    assert entry["new_due"] == "2026-09-16T00:00:00+08:00"


def test_a_clock_the_new_version_adds_is_not_started_when_its_stop_event_has_happened(jianan):
    from tests.rules.walking import Walk

    # given: the case's first contact was logged by phone before the migration
    walk = Walk(register_in(jianan))
    walk("log_contact", jianan.member("clerk"), sh(2026, 9, 14, 11), kind="phone",
         note="当天电话联系")
    v3 = profile_install(text=renamed_contact_clock(), source="jianan-v3.yaml").row

    # when
    plan = migration_plan(target=v3)
    profile_migrate(target=v3, at=sh(2026, 9, 14, 15))

    # then: the contact duty was met before the clock existed; nothing starts
    assert not any(m.name == "first_call" for m in plan.cases[0].moves)
    assert not walk.case.clocks.filter(name="first_call").exists()


def test_a_backdated_event_is_replayed_at_the_instant_the_clocks_heard_it(jianan):
    from tests.rules.walking import Walk

    # given: a contact on 09-14 11:00 recorded at 16:00
    walk = Walk(register_in(jianan))
    event = walk("log_contact", jianan.member("clerk"), sh(2026, 9, 14, 16), kind="phone",
                 note="电话联系", contacted_at=sh(2026, 9, 14, 11))

    # then: the history keeps when it happened beside when it was written
    assert event.payload["event_at"] == sh(2026, 9, 14, 11).isoformat()


# --- refusals and mistakes -----------------------------------------------------------------------


def test_the_same_file_twice_is_a_no_op_and_another_text_under_a_used_version_is_refused(jianan):
    v3 = profile_install(text=raised_jianan(), source="a.yaml").row
    again = profile_install(text=raised_jianan(), source="a.yaml")
    assert not again.created and again.row == v3

    other = raised_jianan(first_contact_days=5)
    with pytest.raises(ProfileError) as refused:
        profile_install(text=other, source="b.yaml")
    [issue] = refused.value.errors
    assert (issue.file, issue.key, issue.line) == ("b.yaml", "version", line_of(other, "version:"))
    assert "请提高版本号" in issue.message
    assert list(ProfileVersion.objects.filter(code="jianan").values_list("version", flat=True)) == [
        NEXT
    ]


def test_a_version_below_the_newest_is_refused(jianan):
    profile_install(text=raised_jianan(version=NEXT + 1), source="v4.yaml")
    with pytest.raises(ProfileError, match=f"版本号须高于{NEXT + 1}"):
        profile_install(text=raised_jianan(version=NEXT), source="v3.yaml")


def test_a_yaml_mistake_is_reported_with_its_line_and_key_and_nothing_is_stored(jianan):
    text = raised_jianan().replace("    unit: days\n", "    unit: dayz\n", 1)
    with pytest.raises(ProfileError) as refused:
        profile_install(text=text, source="jianan-v3.yaml")
    [issue] = refused.value.errors
    assert issue.key == "clocks[0].unit"
    assert issue.line == line_of(text, "unit: dayz")
    assert issue.file == "jianan-v3.yaml"

    broken = f"code: jianan\nversion: {NEXT}\nclocks: [\n"
    with pytest.raises(ProfileError) as syntax:
        profile_install(text=broken, source="x.yaml")
    assert syntax.value.errors[0].line == 4 and "YAML" in syntax.value.errors[0].message
    assert not ProfileVersion.objects.filter(code="jianan", version=NEXT).exists()


def test_a_dry_run_checks_and_stores_nothing(jianan):
    current_version("jianan")
    result = profile_install(text=raised_jianan(), source="v3.yaml", dry_run=True)
    assert result.dry_run and result.row is None and result.previous.version == V
    assert not ProfileVersion.objects.filter(version=NEXT).exists()
    assert not AuditEntry.objects.filter(detail__change="profile_install").exists()


# --- a county's own profile ---------------------------------------------------------------------


COUNTY = """\
code: xiangcheng
version: 1
name: 襄城县涉贫信访办理细则
seed: 襄城县
description: 襄城县在全国默认规则之上缩短办结时限。
extends: national
case_number_pattern: "{prefix}信〔{year}〕{seq:04d}号"
clocks:
  - name: handling
    label: 襄城县办结时限
    start: [signed_for]
    stop: [letter_issued]
    amount: 30
    unit: days
    seed: 襄城县细则第三条
"""


def test_a_county_file_with_its_own_code_is_installed_and_assigned_to_a_jurisdiction(jianan):
    admin = jianan.member("sysadmin")
    row = profile_install(text=COUNTY, source="xiangcheng.yaml", by=admin).row
    assert (row.code, row.version) == ("xiangcheng", 1)
    assert "national" in row.parents  # the parent's text is pinned with it
    assert profile_of(row).clock("handling").amount == 30

    unit_update(by=admin, unit=jianan.county, name=jianan.county.name,
                short_name=jianan.county.short_name, profile_code="xiangcheng",
                phone=jianan.county.phone)  # fmt: skip
    # a request reads the membership afresh (with its unit's parent); so does the test
    jianan.member("clerk").unit.parent.refresh_from_db()
    case = register_in(jianan)
    assert case.profile == row


# --- shipped files ------------------------------------------------------------------------------


@pytest.fixture
def shipped_copy(tmp_path, settings):
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    settings.XINFANG_PROFILE_DIR = tmp_path
    return tmp_path


def test_sync_installs_a_shipped_file_whose_version_was_raised(jianan, shipped_copy):
    assert current_version("jianan").version == V
    current_version("national")
    (shipped_copy / "jianan.yaml").write_text(raised_jianan(), encoding="utf-8")
    assert {s.code: s.state for s in shipped_states()}["jianan"] == "newer"

    results = {r.code: r for r in profile_sync()}

    assert results["jianan"].state == "installed" and results["jianan"].version == NEXT
    assert results["national"].state == "up_to_date"
    assert current_version("jianan").version == NEXT
    assert {s.code: s.state for s in shipped_states()}["jianan"] == "installed"
    assert [r.state for r in profile_sync()].count("installed") == 0  # idempotent


def test_sync_reports_a_shipped_file_changed_without_a_new_version(jianan, shipped_copy):
    current_version("jianan")
    changed = raised_jianan(version=V)
    (shipped_copy / "jianan.yaml").write_text(changed, encoding="utf-8")
    assert {s.code: s.state for s in shipped_states()}["jianan"] == "changed"

    results = {r.code: r for r in profile_sync()}

    assert results["jianan"].state == "refused" and "请提高版本号" in results["jianan"].message
    assert current_version("jianan").version == V


def test_sync_leaves_an_administrators_higher_version_in_force(jianan, shipped_copy):
    profile_install(text=raised_jianan(version=NEXT + 4), source="v7.yaml")
    results = {r.code: r for r in profile_sync()}
    assert results["jianan"].state == "up_to_date" and results["jianan"].version == NEXT + 4
