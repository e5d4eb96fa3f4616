"""``db.written.Written``: a filter on values the code fixes, written into the statement so
that the plan kept for a prepared statement (PostgreSQL) knows them and a partial index on them
can be used (SQLite); the same rows as ``__in`` on both databases."""

import pytest
from django.db import connection
from django.db.models import F, Q

from tests.scale import copies
from xinfang.cases import probes
from xinfang.cases.models import Case, CasePetitioner
from xinfang.cases.selectors import door_for, door_remember, visible_case
from xinfang.db.written import Written
from xinfang.notify import selectors as inbox
from xinfang.notify.models import Notice

pytestmark = pytest.mark.django_db
PG = connection.vendor == "postgresql"


def sql_of(qs) -> tuple[str, tuple]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


@pytest.mark.parametrize("values", [
    ("registered", "closed"),
    ("closed",),
    ("closed", "closed"),
    ("registered", "x'); DROP TABLE cases_case; --"),  # not a code: bound
    (),
])
def test_the_same_rows_as_in(jianan, values):
    copies(jianan, 3, state="registered")
    copies(jianan, 2, state="closed")
    written = Case.objects.filter(Written(F("state"), values)).order_by("pk")
    bound = Case.objects.filter(state__in=values).order_by("pk")
    assert list(written.values_list("pk", flat=True)) == list(bound.values_list("pk", flat=True))
    assert list(Case.objects.filter(Q(Written(F("state"), values)) | Q(pk=0)).values_list(
        "pk", flat=True).order_by("pk")) == list(bound.values_list("pk", flat=True))


def test_codes_are_written_on_both_databases_and_ids_on_postgresql(jianan):
    qs = Case.objects.filter(Written(F("state"), ["registered", "closed"]),
                             probes.named("jurisdiction_id", (jianan.county.pk,)))
    sql, params = sql_of(qs)
    assert """"state" IN ('registered', 'closed')""" in sql
    if PG:
        # one id is an equality: PostgreSQL walks an index in order for it, not for an array
        assert f"\"jurisdiction_id\" = {jianan.county.pk})" in sql
        assert params == ()
    else:
        assert params == (jianan.county.pk,)
    two = (jianan.county.pk, jianan.city.pk)
    sql, params = sql_of(Case.objects.filter(probes.named("jurisdiction_id", two)))
    if PG:
        assert f"\"jurisdiction_id\" = ANY('{{{two[0]},{two[1]}}}'::bigint[])" in sql
        assert params == ()
    else:
        assert params == two


def test_ids_written_into_the_text_are_whole_numbers_or_refused(jianan):
    # the array's text is kept for the doors asked last (``probes._array``): the same ids
    # again, or the same ids given as text, are written the same; anything else is refused
    first = sql_of(Case.objects.filter(probes.named("id", (3, 1, 2))))
    assert sql_of(Case.objects.filter(probes.named("id", ("3", "1", "2")))) == first
    with pytest.raises(ValueError):
        sql_of(Case.objects.filter(probes.named("id", (1, "2}'::bigint[]); DROP TABLE x; --"))))
    with pytest.raises(ValueError):  # one id, written as an equality
        sql_of(Case.objects.filter(probes.named("id", ("2 OR 1 = 1",))))


@pytest.mark.parametrize("odd", ["x'y", "50%", "a b", True, 1.5, None, 7])
def test_a_value_that_is_not_a_code_or_a_whole_number_is_bound(jianan, odd):
    sql, params = sql_of(CasePetitioner.objects.filter(Written(F("role"), ["main", odd])))
    assert "main" in params
    assert "'main'" not in sql


def test_the_bell_names_its_units_and_roles_in_its_text(jianan):
    # the bell's count runs on every page: with its units and roles bound, PostgreSQL planned
    # it again on every run (its generic plan estimated dearer: lead40)
    m = jianan.member("clerk")
    door_remember(m)
    door = door_for(m)
    sql, params = inbox._capped_statement("default", door.key, m.role, m.unit_id, 100)
    units = ",".join(map(str, inbox._sent_to_units(m)))
    assert """"notify_notice"."role" IN ('clerk', '')""" in sql
    assert "clerk" not in params
    if PG:
        assert f"\"notify_notice\".\"unit_id\" = ANY('{{{units}}}'::bigint[])" in sql


def test_the_door_asked_per_row_sorts_nothing(jianan):
    # ``visible_case``: one case's row per notice (or order, line, practice) needs no order; the
    # cases' default order put a Sort under each probe (9 % of an inbox count at 1M: lead54)
    m = jianan.member("clerk")
    door_remember(m)
    door = door_for(m)
    sql, _params = inbox._capped_statement("default", door.key, m.role, m.unit_id, 100)
    assert "(SELECT U0" in sql and "ORDER BY" not in sql
    sql, _params = sql_of(Notice.objects.filter(visible_case(m)).order_by())
    assert "LIMIT 1" in sql and "ORDER BY" not in sql
