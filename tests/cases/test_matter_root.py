"""Each repeat visit keeps its matter's first visit (``Case.matter_root``, issue 9/14): set when
registration links the repeat, at no extra statement, and filled in for the cases already on file
by migration 0044."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from xinfang.cases.models import Case
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


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_the_roots_of_the_cases_on_file(jianan):
    # given two matters on file before 0044: a chain of three visits and a lone visit
    a, b, c, lone = (register_in(jianan) for _ in range(4))
    Case.objects.update(repeat_of=None, matter_root=None)
    Case.objects.filter(pk=b.pk).update(repeat_of=a)
    Case.objects.filter(pk=c.pk).update(repeat_of=b)
    try:
        MigrationExecutor(connection).migrate([("cases", "0043_assignment_unit_cases")])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # then each repeat names the chain's first visit, and a first visit nothing
    roots = dict(Case.objects.filter(pk__in=[a.pk, b.pk, c.pk, lone.pk])
                 .values_list("pk", "matter_root_id"))
    assert roots == {a.pk: None, b.pk: a.pk, c.pk: a.pk, lone.pk: None}
