"""An office's API list compiled once per door and filters (``api.views.kept_case_list``): the
answer the ORM builds for the request, byte for byte, and never a case the door now keeps out."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.http import QueryDict
from django.utils import timezone

from tests.api.world import client_as
from tests.scale import copies, office_mix
from xinfang.api import views
from xinfang.cases import paging
from xinfang.cases.models import Case
from xinfang.cases.selectors import door_remember
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db


def _answer(client, query: str) -> bytes:
    r = client.get("/api/cases/" + ("?" + query if query else ""))
    assert r.status_code in (200, 404), r.content
    return r.status_code, r.content


def _built(client, query: str, monkeypatch) -> bytes:
    """The same answer as the ORM builds it for the request."""
    with monkeypatch.context() as patched:
        patched.setattr(views, "kept_case_list", lambda *args: None)
        return _answer(client, query)


def _compiling(monkeypatch) -> list:
    compiled = []
    original = paging.shape
    monkeypatch.setattr(paging, "shape", lambda *a, **k: compiled.append(1) or original(*a, **k))
    return compiled


def _ids(answer) -> list[int]:
    import json

    return [row["id"] for row in json.loads(answer[1])["results"]]


@pytest.fixture
def many(jianan):
    return office_mix(jianan)


@pytest.mark.parametrize("query", [
    "", "page=2", "page=last", "page=99", "page_size=50&page=3",
    "state=registered", "state=closed&state=in_progress", "kind=ordinary", "channel=visit",
    "township={township}", "township=x", "state=bogus", "overdue=true", "overdue=false",
    "overdue=maybe", "state=registered&overdue=false&page=2",
])
def test_a_kept_answer_is_the_answer_the_orm_builds(jianan, many, monkeypatch, query):
    query = query.format(township=jianan.townships["五女店镇"].pk)
    client = client_as(jianan.member("clerk"))
    views._kept_list.cache_clear()
    first = _answer(client, query)
    assert views._kept_list.cache_info().misses == 1
    compiled = _compiling(monkeypatch)
    assert _answer(client, query) == first == _built(client, query, monkeypatch)
    assert compiled == []  # the second request compiled nothing


def test_a_recusal_declared_after_compiling_takes_the_case_out(jianan, many):
    clerk = jianan.member("clerk")
    client = client_as(clerk)
    rows = _ids(_answer(client, ""))
    Recusal.objects.create(user=clerk.user, case_id=rows[0], reason="本人亲属")
    assert rows[0] not in _ids(_answer(client, ""))


@pytest.mark.parametrize("query", ["search=危房", "state=" + "x" * 300])
def test_a_search_a_long_value_and_a_handling_unit_are_built_each_time(jianan, query):
    clerk = jianan.member("clerk")
    door_remember(clerk)
    assert views.kept_case_list(clerk, QueryDict(query)) is None
    assert views.kept_case_list(clerk, QueryDict("state=registered")) is not None
    township = jianan.member("township")
    door_remember(township)
    assert views.kept_case_list(township, QueryDict("")) is None


def test_a_page_size_of_the_clients_own_is_answered_but_not_kept(jianan, many, monkeypatch):
    """A list keeps a statement for each page size; the sizes are the client's to choose, so
    only the usual one is kept: a client asking every size does not grow a worker's memory."""
    clerk = jianan.member("clerk")
    client = client_as(clerk)
    views._kept_list.cache_clear()
    _answer(client, "")
    door_remember(clerk)
    kept = views.kept_case_list(clerk, QueryDict(""))  # the list the request kept
    assert views._kept_list.cache_info().hits == 1 and kept._pages
    pages = dict(kept._pages)
    for size in (7, 8, 9):
        answer = _answer(client, f"page_size={size}")
        assert answer[0] == 200 and len(_ids(answer)) == size
        assert answer == _built(client, f"page_size={size}", monkeypatch)
    assert kept._pages == pages


def test_each_office_and_each_user_keeps_its_own_list(jianan, many):
    """The key holds the door: the county clerk's and the approver's lists are two (their user
    differs), and each lists what its own door admits."""
    clerk, approver = jianan.member("clerk"), jianan.member("approver")
    for m in (clerk, approver):
        door_remember(m)
    assert views.kept_case_list(clerk, QueryDict("")) is not views.kept_case_list(
        approver, QueryDict(""))


def test_an_overdue_list_asks_each_request_at_its_own_instant(jianan, monkeypatch):
    """The kept statements bind the request's time, in the filter and in each row's
    ``overdue``: a case whose deadline passes between two requests is listed by the second,
    and shown overdue, from the same statements."""
    import json

    late, soon = copies(jianan, 2, state="registered")
    now = timezone.now()
    for case, due in ((soon, now + timedelta(hours=1)), (late, now - timedelta(hours=1))):
        Case.objects.filter(pk=case.pk).update(next_due_at=due, open_due_at=due)
    client = client_as(jianan.member("clerk"))
    rows = _ids(_answer(client, "overdue=true"))
    assert late.pk in rows and soon.pk not in rows
    compiled = _compiling(monkeypatch)
    later = now + timedelta(hours=2)
    monkeypatch.setattr(views, "timezone", SimpleNamespace(now=lambda: later))
    answer = json.loads(_answer(client, "overdue=true")[1])
    assert {late.pk, soon.pk} <= {row["id"] for row in answer["results"]}
    assert all(row["overdue"] for row in answer["results"])
    assert compiled == []
