"""Rates against a profile's targets (kaijiang §二: replied and written delivery 100 %, satisfied
≥ 90 %), counted over what the permission door lets a membership see."""

import pytest

from tests.api.world import walk
from xinfang.cases.rates import counts, target_results
from xinfang.cases.selectors import cases_for
from xinfang.cases.services import perform
from xinfang.rules.store import current_version, profile_of

pytestmark = pytest.mark.django_db


def test_kaijiang_targets_are_measured_over_the_cases_in_scope(jianan):
    j = jianan
    delivered = walk(j, "delivered")
    perform("record_rating", case=delivered, by=j.member("clerk"), rating="basically")
    walk(j, "delivered")  # replied and delivered in writing, not rated
    walk(j, "in_progress")  # accepted, not replied
    walk(j, "registered")

    n = counts(cases_for(j.member("clerk")))
    assert n == {
        "received": 4,
        "registered": 4,
        "accepted": 3,
        "replied": 2,
        "delivered_written": 2,
        "resolved": 0,
        "closed": 0,
        "rated": 1,
        "satisfied": 1,
        "proxy_handled": 0,
        "proxy_closed": 0,
        "proxy_rated": 0,
        "proxy_satisfied": 0,
        "reviewed": 0,
        "review_passed": 0,
        "resolved_passed": 0,
    }
    assert counts(cases_for(j.member("bureau")))["received"] == 3  # assisting on three

    kaijiang = profile_of(current_version("kaijiang"))
    results = {r.name: r for r in target_results(cases_for(j.member("clerk")), kaijiang)}
    assert {r.name for r in results.values()} == {t.name for t in kaijiang.targets}
    satisfied = next(r for r in results.values() if r.numerator == 1 and r.denominator == 1)
    assert satisfied.rate == 1.0 and satisfied.met
    replied = next(r for r in results.values() if (r.numerator, r.denominator) == (2, 3))
    assert replied.met is False and replied.threshold == 1.0
