"""The ledger's filter bar kept per query, language and office (``forms.ledger.filter_bar``):
the bar written for the request, never one that a renamed place or a new category has made
stale, and no query text kept without bound."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from xinfang.org.models import Unit
from xinfang.web.admin_services import unit_set_active
from xinfang.web.forms import ledger as bar_module
from xinfang.web.forms.pick import SOURCES

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def _written(query: str, jianan, categories=("危房改造",), filtered=None) -> str:
    """The bar as the form writes it on every request (nothing kept)."""
    params = QueryDict(query)
    return str(bar_module._write_bar(params, jianan.county, list(categories),
                                     bool(query) if filtered is None else filtered,
                                     bool(params), False))


@pytest.mark.parametrize("query", [
    "", "state=registered", "state=bogus", "village={village}", "village=999999",
    "key_case=true&collective=true", "received_from=never&sort=due", "township={township}&page=2",
])
def test_a_kept_bar_is_the_bar_the_form_writes(jianan, query):
    query = query.format(township=jianan.townships["五女店镇"].pk,
                         village=jianan.villages["魏庄村"].pk)
    bar_module._kept_bar.cache_clear()
    params = QueryDict(query)
    first = str(bar_module.filter_bar(params, jurisdiction=jianan.county,
                                      categories=["危房改造"]))
    again = str(bar_module.filter_bar(params, jurisdiction=jianan.county,
                                      categories=["危房改造"]))
    assert bar_module._kept_bar.cache_info().hits == 1
    assert first == again == _written(query, jianan)
    assert 'name="village"' in first and "魏庄村" in first


def test_the_second_page_builds_no_form_and_a_renamed_village_shows(jianan, monkeypatch):
    client = signed_in(jianan.member("clerk"))
    bar_module._kept_bar.cache_clear()
    built = []
    original = bar_module.LedgerFilterForm.__init__
    monkeypatch.setattr(bar_module.LedgerFilterForm, "__init__",
                        lambda self, *a, **k: built.append(1) or original(self, *a, **k))
    url = reverse("web:ledger") + "?state=registered"
    assert "魏庄村" in client.get(url).content.decode()
    assert client.get(url).status_code == 200 and len(built) == 1
    Unit.objects.filter(pk=jianan.villages["魏庄村"].pk).update(name="魏庄社区")
    html = client.get(url).content.decode()
    assert "魏庄社区" in html and "魏庄村" not in html and len(built) == 2


def test_a_new_category_or_another_language_is_another_bar(jianan):
    from django.utils import translation

    bar_module._kept_bar.cache_clear()
    params = QueryDict("")
    one = str(bar_module.filter_bar(params, jurisdiction=jianan.county, categories=["危房改造"]))
    two = str(bar_module.filter_bar(params, jurisdiction=jianan.county,
                                    categories=["危房改造", "低保<认定>"]))
    assert "低保&lt;认定&gt;" in two and "低保" not in one
    with translation.override("en"):
        bar_module.filter_bar(params, jurisdiction=jianan.county, categories=["危房改造"])
    assert bar_module._kept_bar.cache_info().misses == 3


def test_a_long_query_is_answered_but_not_kept(jianan):
    bar_module._kept_bar.cache_clear()
    params = QueryDict("search=" + "危" * 300)
    html = str(bar_module.filter_bar(params, jurisdiction=jianan.county, categories=[]))
    assert "危" * 100 in html  # the value is written back (the field's max length marks it)
    assert bar_module._kept_bar.cache_info().currsize == 0


def test_a_bar_without_a_jurisdiction_lists_no_places():
    html = str(bar_module.filter_bar(QueryDict(""), jurisdiction=None, categories=[]))
    assert 'name="township"' in html and "<optgroup" not in html


def test_the_page_and_unknown_parameters_are_not_the_bars(jianan):
    """``page`` (and any name the form has not) makes no other bar: the pages of one query
    share one kept bar, the bar the form writes for each of them."""
    bar_module._kept_bar.cache_clear()
    bars = {query: str(bar_module.filter_bar(QueryDict(query), jurisdiction=jianan.county,
                                             categories=["危房改造"]))
            for query in ("state=closed&page=2", "state=closed&page=3", "page=9&state=closed",
                          "state=closed&x=1")}
    assert bar_module._kept_bar.cache_info().currsize == 1
    assert set(bars.values()) == {_written("state=closed&page=2", jianan)}
    # a query with no filter is still a query: the bar's form is bound, as the view's was
    paged = str(bar_module.filter_bar(QueryDict("page=2"), jurisdiction=jianan.county,
                                      categories=["危房改造"]))
    assert paged == _written("page=2", jianan, filtered=False)
    assert bar_module._kept_bar.cache_info().currsize == 2


@pytest.mark.parametrize("query", ["petitioner=张三", "search=危房&state=closed", "unit=999999",
                                   "state=closed&sort=" + "x" * 300])
def test_a_name_a_searched_text_or_a_long_value_is_answered_but_not_kept(jianan, query):
    """What the ledger's statements do not keep (``web.ledger.keeps``), the bar does not keep
    either: a petitioner's name or a searched text would stay in the worker's memory."""
    bar_module._kept_bar.cache_clear()
    html = str(bar_module.filter_bar(QueryDict(query), jurisdiction=jianan.county,
                                     categories=["危房改造"]))
    assert html == _written(query, jianan, filtered=True)
    assert bar_module._kept_bar.cache_info().currsize == 0


def test_a_township_merged_away_is_still_offered_to_find_its_cases(jianan, register):
    # given: a case filed under 椹涧乡, then the township merged away (its villages and itself
    # switched off)
    j = jianan
    case = register(township=j.townships["椹涧乡"], village=j.villages["小河村"])
    for unit in (j.villages["椹涧村"], j.villages["小河村"], j.townships["椹涧乡"]):
        unit_set_active(by=j.member("sysadmin"), unit=unit, active=False)
    bar_module._kept_bar.cache_clear()
    # when: the office filters its ledger by the old township
    client = signed_in(j.member("clerk"))
    town = j.townships["椹涧乡"].pk
    page = client.get(reverse("web:ledger") + f"?township={town}").content.decode()
    # then: the bar offers it, marked, and shows it chosen; the case is listed
    assert f'<option value="{town}" selected>椹涧乡（已停用）</option>' in page
    assert "小河村（已停用）" in page
    assert case.number in page

    # and a city's bar, which searches its places instead of listing them, finds it too
    found = SOURCES["townships"].rows(j.city).filter(pk=town).get()
    assert SOURCES["townships"].label(found) == "椹涧乡（建安区）（已停用）"
