"""A door's subtree and a ledger's places found over their bound are remembered by path: later
requests take the subquery and the searched pickers at once, with the same rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinfang.cases import selectors
from xinfang.web.forms import ledger, pick

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def _unit_reads(client) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as q:
        html = client.get(reverse("web:ledger")).content.decode()
    return [x["sql"] for x in q.captured_queries if 'FROM "org_unit"' in x["sql"]
            and "LIMIT" in x["sql"] and "cases_case" not in x["sql"]], html


def test_a_city_reads_its_subtree_and_places_to_the_bound_once(jianan, register, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 5)
    monkeypatch.setattr(ledger, "PLACES_LISTED", 5)
    monkeypatch.setattr(pick, "PICK_LIMIT", 1)  # the pickers show their search box
    case = register()
    client = signed_in(jianan.member("city_clerk"))
    first, html = _unit_reads(client)
    # the door's ids and the filter bar's names, each read to the bound and one over
    assert [sql for sql in first if "LIMIT 6" in sql], first
    assert case.number in html and 'name="township__q"' in html
    again, html = _unit_reads(client)
    assert not [sql for sql in again if "LIMIT 6" in sql], again
    assert case.number in html and 'name="township__q"' in html
    # a bound raised again is read again (the bound is part of what is remembered)
    monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 100_000)
    monkeypatch.setattr(ledger, "PLACES_LISTED", 100_000)
    raised, html = _unit_reads(client)
    assert [sql for sql in raised if "LIMIT 100001" in sql] and 'name="township__q"' not in html
