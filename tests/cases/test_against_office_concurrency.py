"""Attacks on the routing and the recusal pages' services with real threads (each with its own
connection): petitions against the county office are numbered by the city while the city's own
clerk registers; a recusal withdrawn twice at once is withdrawn, and audited, once."""

import pytest

from tests.cases.test_concurrency import run_in_threads
from tests.conftest import registration, sh
from xinfang.audit.models import AuditEntry
from xinfang.cases.errors import Refused
from xinfang.cases.models import Case
from xinfang.cases.services import RespondentInput, case_register
from xinfang.demo.org import build_jurisdiction
from xinfang.rules.store import current_version
from xinfang.security.models import Recusal
from xinfang.security.services import recusal_declare, recusal_withdraw

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
EACH = 3


def test_routed_and_own_registrations_share_the_city_sequence_without_gaps_or_repeats():
    # given: the city registers its own cases while the county's clerk sends it cases
    # against the county office
    j = build_jurisdiction()
    county_clerk, city_clerk = j.member("clerk"), j.member("city_clerk")
    against = [RespondentInput(name=j.office.name, unit=j.office)]
    case_register(by=city_clerk, data=registration(j, demands=_demands()), at=sh(2026, 9, 14, 10))
    # Both profiles in force before the race, as a running office has them (installing a
    # profile on first use is not itself race-safe; see the report).
    current_version("jianan")

    def register_many(i):
        for k in range(EACH):
            if i % 2:
                data = registration(j, matter=f"反映乡村振兴局{i}-{k}", respondents=against)
                case = case_register(by=county_clerk, data=data, at=sh(2026, 9, 14, 11))
                assert case.routed is not None
            else:
                data = registration(j, matter=f"市本级{i}-{k}", demands=_demands())
                case_register(by=city_clerk, data=data, at=sh(2026, 9, 14, 11))

    # when
    errors = run_in_threads(register_many, THREADS)
    # then
    assert errors == []
    seqs = sorted(Case.objects.filter(jurisdiction=j.city).values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * EACH + 2))
    assert not Case.objects.filter(jurisdiction=j.county).exists()
    routed = Case.objects.filter(events__type="route_against_office")
    assert routed.count() == THREADS // 2 * EACH


def test_a_recusal_withdrawn_twice_at_once_is_withdrawn_and_audited_once():
    j = build_jurisdiction()
    clerk, approver, chief = j.member("clerk"), j.member("approver"), j.member("chief")
    r = recusal_declare(user=clerk.user, matter_words="危房改造", reason="亲属", by=clerk)
    refused = []

    def withdraw(i):
        try:
            recusal_withdraw(recusal=r, by=approver if i % 2 else chief, reason=f"第{i}次")
        except Refused as e:
            refused.append(e.message)

    errors = run_in_threads(withdraw, 4)
    assert errors == []
    assert len(refused) == 3 and all("已撤回" in m for m in refused)
    assert not Recusal.objects.get(pk=r.pk).is_active
    assert AuditEntry.objects.filter(detail__change="recusal_withdrawn").count() == 1


def _demands():
    from xinfang.cases.services import DemandInput

    return [DemandInput(text="要求核查", category="其他")]
