"""``db.fixed.TreeRead``: a read under a unit's path, compiled once per database and path, giving
the rows the queryset gives, and the tree as it is now."""

import pytest

from xinfang.db import fixed
from xinfang.db.fixed import TreeRead
from xinfang.org.models import Unit

pytestmark = pytest.mark.django_db


def _make(path, pk):
    return Unit.objects.filter(path__under=path, is_active=True).exclude(pk=pk).order_by(
        "name").values_list("pk", "name", "level", "parent_id")


def test_the_rows_are_the_querysets_from_one_compilation_a_path(jianan, monkeypatch):
    read = TreeRead(Unit, _make)
    township = jianan.townships["将官池镇"]
    places = [(u.path, u.pk) for u in (jianan.county, township, jianan.villages["魏庄村"])]
    places.append(("/999999/", 0))  # no such subtree: no rows
    for path, pk in places:
        assert read(path, pk) == list(_make(path, pk)), path
    compiled = []
    original = fixed.shape
    monkeypatch.setattr(fixed, "shape", lambda *a, **k: compiled.append(1) or original(*a, **k))
    for path, pk in places:
        assert read(path, pk) == list(_make(path, pk)), path
    assert compiled == []  # each path compiled once


def test_a_unit_added_renamed_or_closed_is_read_as_it_is_now(jianan):
    read = TreeRead(Unit, _make)
    county = jianan.county
    before = read(county.path, county.pk)
    village = jianan.villages["魏庄村"]
    Unit.objects.filter(pk=village.pk).update(name="魏庄社区")
    added = Unit.objects.create(name="新设村", level=village.level, kind=village.kind,
                                parent=village.parent)
    after = read(county.path, county.pk)
    assert after == list(_make(county.path, county.pk)) and len(after) == len(before) + 1
    assert any(row[0] == added.pk for row in after)
    assert any(row[:2] == (village.pk, "魏庄社区") for row in after)
    Unit.objects.filter(pk=added.pk).update(is_active=False)
    assert not any(row[0] == added.pk for row in read(county.path, county.pk))
