"""``db.fixed.ManyRead``: a read by a list of ids, compiled once per database and number of ids,
giving the rows the queryset gives for any ids."""

import pytest

from tests.scale import copies
from xinfang.cases.models import Demand
from xinfang.db import fixed
from xinfang.db.fixed import ManyRead

pytestmark = pytest.mark.django_db


def _make(ids):
    return Demand.objects.filter(case_id__in=ids).order_by("case_id", "seq").values_list(
        "case_id", "category", "text")


def test_the_rows_are_the_querysets_for_any_ids_from_one_compilation_a_length(jianan):
    cases = [c.pk for c in copies(jianan, 6)]
    read = ManyRead(_make)
    for ids in (cases[:1], cases[:3], cases[3:], list(reversed(cases[:3])), cases):
        assert read(ids) == list(_make(ids)), ids
    assert sorted(n for _alias, n in read._compiled) == [1, 3, 6]
    assert read(cases[:2] + cases[:2]) == list(_make(cases[:2]))  # each id asked once
    assert read([]) == [] and read([-1, 10**12]) == []


def test_a_longer_list_is_read_through_the_queryset(jianan, monkeypatch):
    cases = [c.pk for c in copies(jianan, 4)]
    monkeypatch.setattr(fixed, "MANY_MOST", 3)
    read = ManyRead(_make)
    assert read(cases) == list(_make(cases)) and read._compiled == {}


def test_a_read_that_names_an_id_twice_is_refused(jianan):
    read = ManyRead(lambda ids: Demand.objects.filter(case_id__in=ids).exclude(
        case_id__in=ids[:1]).values_list("case_id"))
    with pytest.raises(ValueError, match="each once"):
        read([1, 2])
