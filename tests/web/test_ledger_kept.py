"""An office's ledger compiled once per door, filters and order (``web.ledger.KeptLedger``): the
page the ORM builds for the request, row for row, and never a case the door now keeps out."""

import pytest
from django.urls import reverse

from tests.scale import copies, office_mix
from xinfang.cases import paging
from xinfang.security.models import Recusal
from xinfang.web import ledger as kept_module
from xinfang.web.views import lists

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def _page(client, query: str) -> tuple[list[int], str, int]:
    r = client.get(reverse("web:ledger") + ("?" + query if query else ""))
    assert r.status_code == 200
    page = r.context["page_obj"]
    return [row.case.pk for row in r.context["rows"]], r.context["total"], page.number


def _built(client, query: str, monkeypatch) -> tuple[list[int], str, int]:
    """The same page as the ORM builds it for the request."""
    with monkeypatch.context() as patched:
        patched.setattr(lists, "kept_ledger", lambda *args: None)
        return _page(client, query)


@pytest.fixture
def many(jianan):
    return office_mix(jianan)


@pytest.mark.parametrize("query", [
    "", "sort=received", "sort=due", "sort=-number&page=2", "page=2", "page=99", "page=x",
    "state=registered", "state=closed&state=in_progress", "category=危房改造",
    "category=危房改造&state=registered&sort=number", "key_case=true", "repeat=maybe",
    "received_from=2020-01-01&received_to=2099-12-31", "received_from=never",
    "township={township}", "village={village}", "state=bogus", "overdue=true",
    "overdue=false&sort=due", "overdue=maybe",
])
def test_a_kept_page_is_the_page_the_orm_builds(jianan, many, monkeypatch, query):
    query = query.format(township=jianan.townships["五女店镇"].pk,
                         village=jianan.villages["魏庄村"].pk)
    client = signed_in(jianan.member("clerk"))
    kept_module._kept.cache_clear()
    first = _page(client, query)
    assert kept_module._kept.cache_info().misses == 1
    compiled = []
    original = paging.shape
    monkeypatch.setattr(paging, "shape",
                        lambda *a, **k: compiled.append(1) or original(*a, **k))
    assert _page(client, query) == first == _built(client, query, monkeypatch)
    assert compiled == []  # the second request compiled nothing


def test_a_recusal_declared_after_compiling_takes_the_case_out(jianan, many):
    clerk = jianan.member("clerk")
    client = signed_in(clerk)
    rows, total, _n = _page(client, "")
    Recusal.objects.create(user=clerk.user, case_id=rows[0], reason="本人亲属")
    after, after_total, _n = _page(client, "")
    assert rows[0] not in after and int(after_total) == int(total) - 1


@pytest.mark.parametrize("query", ["search=危房", "unit={unit}", "petitioner=王1明"])
def test_filters_that_read_a_term_or_other_rows_are_built_each_time(jianan, query):
    from django.http import QueryDict

    from xinfang.cases.selectors import door_remember

    m = jianan.member("clerk")
    door_remember(m)
    params = QueryDict(query.format(unit=jianan.townships["将官池镇"].pk))
    assert kept_module.kept_ledger(m, params, "-received") is None
    assert kept_module.kept_ledger(m, QueryDict("state=registered"), "-received") is not None
    township = jianan.member("township")
    door_remember(township)
    assert kept_module.kept_ledger(township, QueryDict(""), "-received") is None


def test_long_values_are_not_kept(jianan):
    """What a request sends is untrusted: a long filter value or chosen place is answered but
    not held in a process's memory as a key."""
    from django.http import QueryDict

    from xinfang.cases.selectors import door_remember
    from xinfang.web.forms import ledger as bar

    m = jianan.member("clerk")
    door_remember(m)
    long = "x" * (paging.KEPT_TEXT_MOST + 1)
    assert kept_module.kept_ledger(m, QueryDict(f"state={long}"), "-received") is None
    client = signed_in(m)
    bar._options.cache_clear()
    client.get(reverse("web:ledger"), {"village": "98"})  # a filtered bar: its selects' keys
    plain = bar._options.cache_info().currsize
    page = client.get(reverse("web:ledger"), {"village": "9" * 5000})
    assert page.status_code == 200 and page.context["total"] == "0"
    assert bar._options.cache_info().currsize == plain  # the long choice written, not kept
    client.get(reverse("web:ledger"), {"village": "99"})
    assert bar._options.cache_info().currsize == plain + 1


def test_a_ledger_that_grows_keeps_its_statements_and_shows_the_new_case(jianan, monkeypatch):
    copies(jianan, 3, state="registered")
    client = signed_in(jianan.member("clerk"))
    rows, total, _n = _page(client, "")
    compiled = []
    original = paging.shape
    monkeypatch.setattr(paging, "shape",
                        lambda *a, **k: compiled.append(1) or original(*a, **k))
    (new,) = copies(jianan, 1, state="registered")
    grown, grown_total, _n = _page(client, "")
    # (``copies`` registers a case of its own to copy from, each time)
    assert new.pk in grown and int(grown_total) == len(grown) > int(total) == len(rows)
    assert compiled == []  # the last page is kept by where it starts, not where it ends


def test_an_overdue_ledger_asks_each_request_at_its_own_instant(jianan, monkeypatch):
    """The kept statements of ``overdue=true`` bind the request's time: a case whose deadline
    passes between two requests is listed by the second, from the same statements."""
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone

    from xinfang.cases.models import Case

    late, soon = copies(jianan, 2, state="registered")
    Case.objects.filter(pk=soon.pk).update(next_due_at=timezone.now() + timedelta(hours=1),
                                           open_due_at=timezone.now() + timedelta(hours=1))
    Case.objects.filter(pk=late.pk).update(next_due_at=timezone.now() - timedelta(hours=1),
                                           open_due_at=timezone.now() - timedelta(hours=1))
    client = signed_in(jianan.member("clerk"))
    rows, total, _n = _page(client, "overdue=true")
    assert late.pk in rows and soon.pk not in rows
    compiled = []
    original = paging.shape
    monkeypatch.setattr(paging, "shape",
                        lambda *a, **k: compiled.append(1) or original(*a, **k))
    later = timezone.now() + timedelta(hours=2)
    # the ledger's own clock two hours on (the session's stays where it is)
    monkeypatch.setattr(lists, "timezone", SimpleNamespace(now=lambda: later))
    rows, later_total, _n = _page(client, "overdue=true")
    assert {late.pk, soon.pk} <= set(rows) and int(later_total) == int(total) + 1
    assert compiled == []
