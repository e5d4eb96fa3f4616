"""An office's own buckets are compiled once per door (``web.queues._kept``): the same rows and
totals as the buckets the ORM builds for the request, and never a case the door now keeps out."""

import pytest
from django.utils import timezone

from tests.cases.test_door_one import fresh
from tests.scale import copies
from xinfang.cases.models import Respondent
from xinfang.security.models import Recusal
from xinfang.web import queues

pytestmark = pytest.mark.django_db


def _seen(m, now) -> dict[str, tuple[list[int], int]]:
    return {b.key: ([r.case.pk for r in b.rows], b.total) for b in queues.queue_for(fresh(m), now)}


def _built(m, now) -> dict[str, tuple[list[int], int]]:
    """Each bucket as the ORM builds it for this request (``bucket_cases``)."""
    m = fresh(m)
    out = {}
    for key in queues.bucket_keys(m):
        qs = queues.bucket_cases(m, now, key)
        out[key] = ([c.pk for c in qs[: queues.PER_BUCKET]], qs.count())
    return out


@pytest.mark.parametrize("who", ["clerk", "approver"])
def test_the_buckets_compiled_once_are_the_buckets_the_orm_builds(jianan, who):
    for state in ("registered", "signed_off", "letter_approved", "closed", "proposed",
                  "delivered", "letter_drafted"):
        copies(jianan, queues.PER_BUCKET + 2, state=state, warned=state == "proposed")
    m, now = jianan.member(who), timezone.now()
    queues._kept_bucket.cache_clear()
    first = _seen(m, now)
    compiled = queues._kept_bucket.cache_info().misses
    assert compiled == len([k for k, _l, narrow, _m in queues._buckets(m)
                            if isinstance(narrow, queues._own)])
    assert _seen(m, now) == first == _built(m, now)
    assert queues._kept_bucket.cache_info().misses == compiled  # the second request compiles none
    assert any(total > queues.PER_BUCKET for _rows, total in first.values())


def test_a_recusal_or_a_respondent_named_after_compiling_takes_the_case_out(jianan):
    recused, accused, *rest = copies(jianan, 4, state="registered")
    clerk, now = jianan.member("clerk"), timezone.now()
    assert {recused.pk, accused.pk} <= set(_seen(clerk, now)["propose"][0])
    Recusal.objects.create(user=clerk.user, case=recused, reason="本人亲属")
    Respondent.objects.create(case=accused, unit=clerk.unit, name=clerk.unit.name)
    rows, total = _seen(clerk, now)["propose"]
    assert recused.pk not in rows and accused.pk not in rows
    assert (rows, total) == _built(clerk, now)["propose"]
    Recusal.objects.filter(user=clerk.user).update(is_active=False)  # withdrawn: back again
    assert recused.pk in _seen(clerk, now)["propose"][0]


def test_a_county_clerks_watch_bucket_builds_no_list(jianan, monkeypatch):
    """No office below a county: the watch bucket neither reads cases nor builds the door's
    list (``Door.all_cases``) for nothing."""
    from xinfang.cases.selectors import Door, door_for, door_remember

    built = []
    original = Door.all_cases
    monkeypatch.setattr(Door, "all_cases", lambda self: built.append(1) or original(self))
    clerk = fresh(jianan.member("clerk"))
    door_remember(clerk)
    buckets = queues.queue_for(clerk, timezone.now())
    assert buckets[-1].key == "watch" and buckets[-1].rows == [] and built == []
    # nor its 230 units read to find no office among them: the offices are asked alone
    assert "_tree" not in door_for(clerk).__dict__


def test_a_city_clerks_watched_districts_are_the_scope_not_a_test_beside_its_subtree(
        jianan, register):
    """The city's districts are read alone and are the statement's scope: the city's subtree
    is not read for the queue, and the door's exclusions still hide a recused case."""
    from xinfang.cases.selectors import door_for, door_remember

    watched, recused = register(), register()
    city = fresh(jianan.member("city_clerk"))
    Recusal.objects.create(user=city.user, case=recused, reason="本人亲属")
    door_remember(city)
    buckets = {b.key: b for b in queues.queue_for(city, timezone.now())}
    assert [r.case.pk for r in buckets["watch"].rows] == [watched.pk]
    assert "_tree" not in door_for(city).__dict__
    page = queues.queue_page(city, timezone.now(), "watch", 1)
    assert [r.case.pk for r in page.rows] == [watched.pk] and page.total == 1
