"""Many clerks registering at once get unique, gap-free numbers; two people acting on one case at
once never lose an update. Real threads, each with its own database connection, on SQLite (a file
database) and on PostgreSQL in CI."""

import threading

import pytest
from django.db import connection, connections

from tests.conftest import registration, sh
from xinfang.cases.errors import StaleCase
from xinfang.cases.models import Case
from xinfang.cases.services import Invalid, case_register, perform
from xinfang.demo.org import build_jurisdiction

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
EACH = 5


def run_in_threads(target, count):
    errors, barrier = [], threading.Barrier(count)

    def wrapped(i):
        try:
            barrier.wait()
            target(i)
        except Exception as e:  # collected and asserted by the caller
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_registrations_get_gap_free_unique_numbers():
    j = build_jurisdiction()
    clerk = j.member("clerk")
    # Take the first number (and install the profile) before the race, as a running office has.
    case_register(by=clerk, data=registration(j), at=sh(2026, 9, 14, 10))

    def register_many(i):
        for k in range(EACH):
            case_register(
                by=clerk, data=registration(j, matter=f"线程{i}第{k}件"), at=sh(2026, 9, 14, 11)
            )

    errors = run_in_threads(register_many, THREADS)
    assert errors == []
    seqs = sorted(Case.objects.filter(jurisdiction=j.county).values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * EACH + 2))
    numbers = set(Case.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS * EACH + 1 and "建安信〔2026〕0041号" in numbers


def test_a_registration_that_fails_returns_its_number():
    j = build_jurisdiction()
    clerk = j.member("clerk")
    case_register(by=clerk, data=registration(j), at=sh(2026, 9, 14, 10))
    with pytest.raises(Invalid):
        case_register(by=clerk, data=registration(j, matter=""), at=sh(2026, 9, 14, 10))
    case = case_register(by=clerk, data=registration(j), at=sh(2026, 9, 14, 10))
    assert case.seq == 2


def test_a_stale_form_is_refused_and_the_first_update_is_kept():
    j = build_jurisdiction()
    case = case_register(by=j.member("clerk"), data=registration(j), at=sh(2026, 9, 14, 10))
    seen_by_both = case.version
    perform(
        "propose",
        case=case,
        by=j.member("clerk"),
        expected_version=seen_by_both,
        proposal="交将官池镇办理",
    )
    with pytest.raises(StaleCase, match="已被他人修改"):
        perform(
            "propose",
            case=case,
            by=j.member("clerk"),
            expected_version=seen_by_both,
            proposal="交区民政局办理",
        )
    case.refresh_from_db()
    assert case.proposal == "交将官池镇办理"


def test_two_people_signing_off_at_once_one_wins_the_other_is_told():
    j = build_jurisdiction()
    case = case_register(by=j.member("clerk"), data=registration(j), at=sh(2026, 9, 14, 10))
    case = perform("propose", case=case, by=j.member("clerk"), proposal="交将官池镇")
    version = case.version
    outcomes = []

    def sign(i):
        try:
            perform(
                "sign_off",
                case=case.pk,
                by=j.member("approver"),
                expected_version=version,
                note=f"签批{i}",
            )
            outcomes.append("ok")
        except StaleCase:
            outcomes.append("stale")

    errors = run_in_threads(sign, 4)
    assert errors == []
    assert sorted(outcomes) == ["ok", "stale", "stale", "stale"]
    assert Case.objects.get(pk=case.pk).events.filter(type="sign_off").count() == 1


def test_the_database_in_use_is_reported():
    # Makes the CI log say which engine ran the concurrency tests.
    assert connection.vendor in {"sqlite", "postgresql"}
