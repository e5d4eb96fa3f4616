"""``cases.bulk.update_where``: a transition's version update in a kept statement writes what
the ORM's ``filter(...).update(...)`` writes — a date, text, a flag, a related row by its key —
changes nothing when the version has moved on, and leaves an expression to the ORM."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from xinfang.cases.bulk import update_where
from xinfang.cases.models import Case

pytestmark = pytest.mark.django_db

COLUMNS = ("state", "version", "closed_at", "decline_reason", "leader_owner_id",
           "transferred_to_discipline", "next_due_at")


def _written(case) -> dict:
    return Case.objects.filter(pk=case.pk).values(*COLUMNS).get()


def test_it_writes_what_the_orms_update_writes(jianan):
    ours, theirs = register_in(jianan), register_in(jianan)
    values = {"state": "declined", "closed_at": sh(2026, 10, 2, 16, 30),
              "decline_reason": "不属于信访事项'; --",
              "leader_owner": jianan.member("approver").user,
              "transferred_to_discipline": True, "next_due_at": None}
    assert update_where(Case, {"pk": ours.pk, "version": ours.version},
                        {**values, "version": ours.version + 1}) == 1
    assert Case.objects.filter(pk=theirs.pk, version=theirs.version).update(
        **values, version=theirs.version + 1) == 1
    assert _written(ours) == _written(theirs)
    assert _written(ours)["leader_owner_id"] == jianan.member("approver").user_id


def test_a_moved_version_changes_nothing(jianan):
    case = register_in(jianan)
    before = _written(case)
    assert update_where(Case, {"pk": case.pk, "version": case.version + 1},
                        {"state": "closed", "version": case.version + 2}) == 0
    assert _written(case) == before


def test_one_statement_and_an_expression_left_to_the_orm(jianan):
    case = register_in(jianan)
    with CaptureQueriesContext(connection) as seen:
        assert update_where(Case, {"pk": case.pk}, {"version": F("version") + 5}) == 1
    assert len(seen.captured_queries) == 1
    assert _written(case)["version"] == case.version + 5
