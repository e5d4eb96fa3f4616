"""Each repeat visit keeps its matter's first visit (``Case.matter_root``, issue 9/14): set when
registration links the repeat, at no extra statement, and filled in for the cases already on file
by migration 0044 (and by 0045 for a repeat registered by the old code meanwhile)."""

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from xinfang.cases.dbstats import db_optimize
from xinfang.cases.models import Case
from xinfang.cases.services.scope import _earlier
from xinfang.reports.selectors import repeat_matters


def _statements(j, **data) -> tuple[Case, list[str]]:
    with CaptureQueriesContext(connection) as q:
        case = register_in(j, at=sh(2026, 9, 14, 10), **data)
    asked = [x["sql"] for x in q.captured_queries]
    # the earlier visit's root is read with it, never by a read of its own
    assert not [x for x in asked if x.startswith('SELECT "cases_case"."id", '
                                                 '"cases_case"."matter_root_id" FROM')], asked
    return case, asked


@pytest.mark.django_db
def test_a_repeat_keeps_the_first_visit_of_its_matter_and_asks_nothing_more(jianan):
    # given a first visit, a repeat of it and a repeat of the repeat (confirmed by the clerk)
    first, _ = _statements(jianan)
    second, asked_second = _statements(jianan, repeat_of=first)
    third, asked_third = _statements(jianan, repeat_of=second)
    # then each names the first visit as its matter; the first is its own
    assert (first.matter_root_id, second.matter_root_id, third.matter_root_id) == (
        None, first.pk, first.pk)
    assert [x.matter_id for x in (first, second, third)] == [first.pk] * 3
    # and the third costs what the second did: the earlier visit's root came with it
    assert len(asked_third) == len(asked_second), "\n".join(asked_third)
    # and the period's three visits are one matter petitioned again
    assert repeat_matters(Case.objects.filter(jurisdiction=jianan.county)) == 1


@pytest.mark.django_db
def test_a_repeat_found_by_matching_keeps_the_first_visit_too(jianan):
    # the same person and matter again, linked by the threshold (no clerk's choice)
    first, _ = _statements(jianan)
    second, asked_second = _statements(jianan)
    third, asked_third = _statements(jianan)
    assert (second.repeat_of_id, third.repeat_of_id) == (first.pk, second.pk)
    assert third.matter_root_id == second.matter_root_id == first.pk
    assert len(asked_third) == len(asked_second), "\n".join(asked_third)


def _migrated(name: str, step: str) -> None:
    """Run a migration's data step on the database as it is. Not by migrating back and forth:
    on SQLite taking a field away copies the table, and the copy keeps neither the full-text
    triggers nor the indexes made in SQL, for every later test of the session."""
    getattr(importlib.import_module(f"xinfang.cases.migrations.{name}"), step)(connection)


@pytest.mark.django_db
def test_the_migration_fills_in_the_roots_of_the_cases_on_file(jianan):
    # given two matters on file before 0044: a chain of three visits and a lone visit
    a, b, c, lone = (register_in(jianan) for _ in range(4))
    Case.objects.update(repeat_of=None, matter_root=None)
    Case.objects.filter(pk=b.pk).update(repeat_of=a)
    Case.objects.filter(pk=c.pk).update(repeat_of=b)
    _migrated("0044_case_matter_root", "fill_roots")
    # then each repeat names the chain's first visit, and a first visit nothing
    roots = dict(Case.objects.filter(pk__in=[a.pk, b.pk, c.pk, lone.pk])
                 .values_list("pk", "matter_root_id"))
    assert roots == {a.pk: None, b.pk: a.pk, c.pk: a.pk, lone.pk: None}


@pytest.mark.django_db
def test_a_repeat_registered_without_its_root_is_given_it_by_the_next_migration(jianan):
    # given a matter of two visits on file with their roots, then three repeats registered while
    # the old code still served after 0044 (docs/operations.md §6): d and f kept no root, and e,
    # a repeat of d registered by the new code, took d for its matter
    a, b, d, e, f, lone = (register_in(jianan) for _ in range(6))
    Case.objects.update(repeat_of=None, matter_root=None)
    Case.objects.filter(pk=b.pk).update(repeat_of=a, matter_root=a)
    Case.objects.filter(pk=d.pk).update(repeat_of=b)
    Case.objects.filter(pk=e.pk).update(repeat_of=d, matter_root=d)
    Case.objects.filter(pk=f.pk).update(repeat_of=d)
    _migrated("0045_matter_root_index", "heal_roots")
    # then every visit of the matter names its first visit, and the lone visit nothing
    roots = dict(Case.objects.filter(pk__in=[a.pk, b.pk, d.pk, e.pk, f.pk, lone.pk])
                 .values_list("pk", "matter_root_id"))
    assert roots == {a.pk: None, b.pk: a.pk, d.pk: a.pk, e.pk: a.pk, f.pk: a.pk, lone.pk: None}
    assert repeat_matters(Case.objects.filter(pk__in=[a.pk, b.pk, d.pk, e.pk, f.pk])) == 1


@pytest.mark.django_db
def test_national_s36_reads_the_matters_visits_off_the_index_alone(jianan):
    # given a matter of three visits, the third being proposed
    first = register_in(jianan)
    second = register_in(jianan, repeat_of=first)
    third = register_in(jianan, repeat_of=second)
    db_optimize()
    # when §36 asks for a decided re-review of any visit of the matter
    with CaptureQueriesContext(connection) as q:
        _earlier(third, people=[], categories=[])
    [statement] = [x["sql"] for x in q.captured_queries]
    # then the visits come off the (matter_root, id) index, no visit's row read for them
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {statement}")
            assert "Index Only Scan using case_matter_root_id" in str(cursor.fetchall())
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}")
            assert "USING COVERING INDEX case_matter_root_id" in str(cursor.fetchall())
