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



def _unit_seen(m, now) -> dict[str, tuple[list[int], int]]:
    """The queue as a request sees it: its door remembered, so a unit's buckets are kept."""
    from xinfang.cases.selectors import door_remember

    m = fresh(m)
    door_remember(m)
    return {b.key: ([r.case.pk for r in b.rows], b.total) for b in queues.queue_for(m, now)}


@pytest.fixture
def lists_made(monkeypatch):
    """How many kept lists the queue made (each compiles its statements on first use)."""
    made = []
    real = queues.KeptList
    monkeypatch.setattr(queues, "KeptList", lambda alias, **kw: made.append(alias) or real(
        alias, **kw))
    queues._held_slot.cache_clear()
    return made


def test_a_units_buckets_compiled_once_are_the_buckets_the_orm_builds(
        jianan, register, lists_made):
    """A handling unit's buckets are compiled once per door and set of held assignments
    (``_kept_held``): the same rows and totals as the ORM builds, and a second request with the
    same assignments compiles nothing."""
    from .conftest import walk

    for stage, n in (("assigned", 2), ("in_progress", 2), ("found", 1), ("letter_approved", 1)):
        for _ in range(n):
            walk(jianan, register(), stage)
    township, now = jianan.member("township"), timezone.now()
    first = _unit_seen(township, now)
    assert len(lists_made) == 4  # one a bucket
    assert first == _built(township, now) == _unit_seen(township, now)
    assert len(lists_made) == 4  # the second request compiled nothing
    assert [len(first[k][0]) for k in ("sign_for", "handle", "draft", "reply")] == [2, 2, 1, 1]


def test_a_case_assigned_signed_for_or_kept_out_after_compiling_shows_so_at_once(
        jianan, register, lists_made):
    """The kept lists follow the unit's assignments: a case assigned since is in 待签收 on the
    next request, in 待办理 once signed for; a respondent named or a recusal declared after
    compiling takes a case out, as the ORM's buckets do."""
    from xinfang.cases.models import Respondent
    from xinfang.cases.services import perform

    from .conftest import walk

    kept, accused, recused = (register() for _ in range(3))
    for case in (kept, accused, recused):
        walk(jianan, case, "assigned")
    township, now = jianan.member("township"), timezone.now()
    assert set(_unit_seen(township, now)["sign_for"][0]) == {kept.pk, accused.pk, recused.pk}
    made = len(lists_made)
    new = register()
    walk(jianan, new, "assigned")
    seen = _unit_seen(township, now)
    assert new.pk in seen["sign_for"][0] and len(lists_made) > made  # other assignments
    perform("sign_for", case=new, by=township)
    seen = _unit_seen(township, now)
    assert new.pk not in seen["sign_for"][0] and new.pk in seen["handle"][0]
    Respondent.objects.create(case=accused, unit=township.unit, name=township.unit.name)
    Recusal.objects.create(user=township.user, case=recused, reason="亲属")
    seen = _unit_seen(township, now)
    assert seen["sign_for"] == ([kept.pk], 1)
    assert seen == _built(township, now)
