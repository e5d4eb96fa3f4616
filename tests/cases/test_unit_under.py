"""``path__under``: a unit's subtree by its path, the same set as ``startswith`` on both databases,
and on SQLite read off the path's index as a range (its ``LIKE`` cannot use a binary index)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models import F

from xinfang.cases.models import Assignment
from xinfang.cases.selectors import _subtree
from xinfang.org.models import OFFICE, Unit

pytestmark = pytest.mark.django_db


def paths_under(prefix: str) -> set[int]:
    return {pk for pk, path in Unit.objects.values_list("pk", "path") if path.startswith(prefix)}


def test_every_subtree_is_what_startswith_selects(jianan, copies_of_units):
    paths = list(Unit.objects.values_list("path", flat=True))
    # every unit's own path, and prefixes cut inside a number ("/1/2" takes /1/2/ and /1/20/)
    prefixes = set(paths) | {p[:-1] for p in paths if len(p) > 2} | {"/", "/1"}
    for prefix in prefixes:
        assert set(Unit.objects.filter(path__under=prefix).values_list("pk", flat=True)) == (
            paths_under(prefix)), prefix


def test_across_a_join(jianan, copies_of_units):
    jianan_path = jianan.county.path
    joined = Assignment.objects.filter(unit__path__under=jianan_path)
    assert list(joined) == list(Assignment.objects.filter(unit__path__startswith=jianan_path))
    assert set(Unit.objects.filter(children__path__under=jianan_path)) == set(
        Unit.objects.filter(children__path__startswith=jianan_path))


def test_an_empty_path_is_every_unit_and_an_expression_is_refused(jianan):
    assert Unit.objects.filter(path__under="").count() == Unit.objects.count()
    with pytest.raises(TypeError):
        list(Unit.objects.filter(path__under=F("name")))


def plan_without_scans(qs) -> str:
    """The plan of ``qs``, which must read no table whole: SQLite's says SEARCH, not SCAN;
    PostgreSQL's is made with sequential and bitmap scans off, so that a plan without a usable
    index shows as a sequential scan, and an index is named as the one read."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = qs.explain()
    assert not re.search(r"\bSCAN\b|Seq Scan", plan), plan
    return plan


def test_the_subtree_is_read_off_the_path_index(jianan):
    # SQLite: the index range; PostgreSQL: LIKE off the pattern index
    plan = plan_without_scans(Unit.objects.filter(path__under=jianan.county.path).values_list("pk"))
    assert ("path>? AND path<?" if connection.vendor == "sqlite" else "org_unit_path") in plan
    assert sorted(_subtree(jianan.county.path)) == sorted(paths_under(jianan.county.path))


def test_the_offices_under_a_path_are_read_off_their_own_index(jianan, jurisdiction):
    # given two counties of the city, each with its offices' units and villages
    jurisdiction("lihai")
    offices = {u.pk: u.path for u in Unit.objects.exclude(profile_code="")}
    # then a door's offices are the units with a profile under its path, every one
    for path in (jianan.city.path, jianan.county.path, jianan.province.path, "/"):
        assert set(Unit.offices_under(path)) == {
            pk for pk, p in offices.items() if p.startswith(path)}, path
    # read off unit_office_path, which only offices enter
    qs = Unit.objects.filter(OFFICE, path__under=jianan.city.path).values_list("pk")
    assert "unit_office_path" in plan_without_scans(qs)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared plans")
def test_a_tree_path_is_written_into_the_statement_and_anything_else_is_bound(jianan):
    # a path of the tree's form is a constant of the statement: a generic plan of a prepared
    # statement cannot read an unknown pattern off the index (PERFORMANCE.md, lead35)
    path = jianan.county.path
    sql, params = Unit.objects.filter(path__under=path).query.get_compiler(
        connection=connection).as_sql()
    assert f"LIKE '{path}%%'" in sql and path not in "".join(map(str, params)), sql
    assert sorted(Unit.objects.filter(path__under=path).values_list("pk", flat=True)) == sorted(
        paths_under(path))
    # a prefix cut inside a number, a wildcard, a quote: bound and escaped as ``startswith``
    for other in (path[:-1], "/1_/", "%", "/1/'; SELECT 1; --"):
        sql, params = Unit.objects.filter(path__under=other).query.get_compiler(
            connection=connection).as_sql()
        assert "LIKE %s" in sql and "LIKE '" not in sql and len(params) == 1, (other, sql)
        assert set(Unit.objects.filter(path__under=other).values_list("pk", flat=True)) == (
            paths_under(other)), other


@pytest.fixture
def copies_of_units(jianan):
    """Units numbered past 9 and 99 under one parent, so that /…/2/ and /…/20/ both exist."""
    township = jianan.townships["将官池镇"]
    for i in range(25):
        Unit.objects.create(name=f"测试村{i}", level="village", kind="village", parent=township)
    return jianan
