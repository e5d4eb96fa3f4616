"""Search over the number, the matter and the demands (issue 9): on SQLite through the FTS5
trigram tables kept by triggers, with the same results as the plain scan it replaces; on
PostgreSQL through the trigram indexes. Every test here runs on both databases."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.scale import copies
from xinfang.api.filters import filter_cases
from xinfang.cases import search
from xinfang.cases.models import Case, Demand
from xinfang.cases.selectors import cases_for

pytestmark = pytest.mark.django_db
SQLITE = connection.vendor == "sqlite"


@pytest.fixture
def texts(jianan):
    """Cases whose matter, number and demands hold the words searched for below."""
    made = copies(jianan, 6, state="in_progress")
    matters = [
        "村道硬化工程拖欠农民工工资",
        "危房改造补助未到位",
        'ABC合作社"分红"纠纷',
        "土地承包100%确权争议",
        "低保资格_复核",
        "低保资格被取消",
    ]
    for case, matter in zip(made, matters, strict=True):
        Case.objects.filter(pk=case.pk).update(matter=matter)  # fires the update trigger
    Demand.objects.filter(case=made[0]).update(text="要求补发2025年工资")
    Demand.objects.create(case=made[1], seq=2, text="希望尽快入户核查", category="危房改造")
    return jianan, made


def found(jianan, text: str) -> set[int]:
    qs = filter_cases(cases_for(jianan.member("clerk")), {"search": text})
    return set(qs.values_list("pk", flat=True))


def by_scan(jianan, text: str, monkeypatch) -> set[int]:
    """The same search through the plain per-case test (an SQLite without FTS5)."""
    with monkeypatch.context() as patch:
        patch.setattr(search, "sqlite_fts", lambda: False)
        return found(jianan, text)


WORDS = [
    ("拖欠农民工", [0]),  # the matter
    ("补发2025年", [0]),  # a demand
    ("入户核查", [1]),  # a demand added after the case
    ("abc合作", [2]),  # case-insensitive, like icontains
    ('"分红"', [2]),  # quotes stand for themselves
    ("100%确权", [3]),  # so does %
    ("资格_复", [4]),  # and _
    ("低保资格", [4, 5]),
    ("确权", [3]),  # two characters: no trigram, the scan answers
    ("没有这句话的信访件", []),
]


@pytest.mark.parametrize("few", [2000, 0], ids=["matches-drive", "per-case-lookup"])
@pytest.mark.parametrize("text,expected", WORDS)
def test_search_finds_the_same_cases_as_the_plain_scan(texts, text, expected, few, monkeypatch):
    jianan, made = texts
    monkeypatch.setattr(search, "FEW_MATCHES", few)  # both ways of reading a phrase's matches
    hits = found(jianan, text)
    assert hits & {c.pk for c in made} == {made[i].pk for i in expected}
    assert hits == by_scan(jianan, text, monkeypatch)


def test_the_case_number_is_searched(texts):
    jianan, made = texts
    assert made[3].pk in found(jianan, made[3].number)


def test_an_edited_matter_or_demand_is_found_by_its_new_words_only(texts):
    jianan, made = texts
    Case.objects.filter(pk=made[2].pk).update(matter="灌溉水渠年久失修")
    assert made[2].pk not in found(jianan, "合作社")
    assert made[2].pk in found(jianan, "水渠年久")
    Demand.objects.filter(case=made[0]).update(text="要求修缮校舍")
    assert made[0].pk not in found(jianan, "补发2025年")
    assert made[0].pk in found(jianan, "修缮校舍")


@pytest.mark.skipif(not SQLITE, reason="FTS5 is SQLite's; PostgreSQL: test_list_plans")
def test_sqlite_reads_the_fts_tables_not_every_case(texts):
    jianan, _ = texts
    assert search.sqlite_fts()
    qs = filter_cases(cases_for(jianan.member("clerk")), {"search": "拖欠农民工"})
    text = qs.order_by("-received_at", "-pk")[:50].explain()
    assert "cases_case_fts VIRTUAL TABLE INDEX" in text, text
    assert "cases_demand_fts VIRTUAL TABLE INDEX" in text, text
    assert "LIKE" not in str(qs.query)  # no per-case text test left


@pytest.mark.skipif(not SQLITE, reason="FTS5 is SQLite's")
def test_a_common_phrase_is_looked_up_per_case_in_the_lists_order(texts, monkeypatch):
    jianan, made = texts
    monkeypatch.setattr(search, "FEW_MATCHES", 0)
    qs = filter_cases(cases_for(jianan.member("clerk")), {"search": "低保资格"})
    text = qs.order_by("-received_at", "-pk")[:50].explain()
    # the matches are a list each case is looked up in, not ids driving the read of the cases
    assert "SEARCH cases_case USING INTEGER PRIMARY KEY" not in text, text
    assert "SCAN cases_case_fts VIRTUAL TABLE" in text, text
    assert set(qs.values_list("pk", flat=True)) == {made[4].pk, made[5].pk}


def test_whether_a_term_is_rare_is_counted_once_a_while_and_either_verdict_finds_the_same(
        texts, monkeypatch):
    """The count that chooses the plan (``FEW_MATCHES``) is kept for ``VERDICT_SECONDS``; a
    verdict gone stale (the term has since become common, or rare) chooses the other plan,
    which finds the same cases."""
    jianan, made = texts
    term, counter = ("危房改造", "_count_fts") if SQLITE else ("危房", "_count_bigram")
    counted = []
    count = getattr(search, counter)
    monkeypatch.setattr(search, counter, lambda t: counted.append(t) or count(t))
    term_counted = search.fts_phrase(term) if SQLITE else term
    first = found(jianan, term)
    assert made[1].pk in first and counted == [term_counted]
    assert found(jianan, term) == first and len(counted) == 1  # kept
    monkeypatch.setattr(search, "VERDICT_SECONDS", 0.0)
    assert found(jianan, term) == first and len(counted) == 2  # counted again
    for key, (at, few) in list(search._verdicts.items()):
        search._verdicts[key] = (at, not few)
    monkeypatch.setattr(search, "VERDICT_SECONDS", 600.0)
    assert found(jianan, term) == first and len(counted) == 2  # the other plan, same cases
