"""A case through the door and the rows that hang on it, read in one statement
(``db.together``, ``cases.selectors.read_case_through``): the same instances the ORM builds, in each
relation's own order, and nothing of a case the door refuses."""

import re

import pytest
from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import Value, When
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cases.test_related import _fields, _lived_case, _seen
from xinfang.api.filters import overdue_q
from xinfang.api.views import _as_the_detail_reads
from xinfang.cases import probes
from xinfang.cases.models import Assignment, Case, CaseEvent, Delivery
from xinfang.cases.related import READS
from xinfang.cases.selectors import cases_for, read_case_through
from xinfang.db.together import Together
from xinfang.org.models import Unit

pytestmark = pytest.mark.django_db


def _door(m):
    """The API detail's read of a case: the door, the user's recusals, the overdue flag."""
    return cases_for(m, one=True).annotate(
        xf_recused=probes.any_recusal(m.user_id),
        overdue=SqlCase(When(overdue_q(timezone.now()), then=Value(True)), default=Value(False)),
    ).select_related("jurisdiction")


def _read(m, pk: int, names):
    """The API detail's read of a case and its rows ``names``, as the product asks it."""
    return read_case_through(m, pk, tuple(names), _as_the_detail_reads, now=timezone.now())


def test_a_case_and_all_its_rows_in_one_statement_are_the_orms_instances(jianan, register):
    # given a case that lived through assignment, a notice with its delivery and a report
    case = _lived_case(jianan, register)
    clerk = jianan.member("clerk")
    # when it is read through the clerk's door with every relation the pages show
    with CaptureQueriesContext(connection) as read:
        got = _read(clerk, case.pk, READS)
    # then one statement read it all
    assert len(read) == 1, [q["sql"][:80] for q in read.captured_queries]
    want = _door(clerk).get(pk=case.pk)
    assert _seen(got, {"jurisdiction": {}}) == _seen(want, {"jurisdiction": {}})
    assert (got.xf_recused, got.overdue) == (want.xf_recused, want.overdue)
    assert got.overdue in (True, False) and got.xf_recused in (True, False)
    with CaptureQueriesContext(connection) as asked:
        assert _fields(got.township) == _fields(Unit.objects.get(pk=case.township_id))
        assert _fields(got.village) == _fields(Unit.objects.get(pk=case.village_id))
        for name, fixed in READS.items():
            rows = list(getattr(got, name).all())
            assert all(row.case is got for row in rows), name
            joined = fixed.make(case.pk).query.select_related or {}
            orm = list(fixed.make(case.pk))
            assert [_seen(r, joined) for r in rows] == [_seen(r, joined) for r in orm], name
        documents = list(got.documents.all())
        for doc in documents:
            delivered = list(doc.deliveries.all())
            assert all(d.document is doc for d in delivered)
            assert [_fields(d) for d in delivered] == [
                _fields(d) for d in Delivery.objects.filter(document=doc)]
    # no statement to reach any of it, but the two units' and the deliveries' comparisons
    assert len(asked) == 2 + len(documents) + len(READS)
    assert any(doc.deliveries.all() for doc in documents), "the acceptance notice's delivery"
    held = {name for name in READS if getattr(got, name).all()}
    assert held >= {"petitioner_links", "demands", "clocks", "assignments", "documents",
                    "reports", "events"}, held


def test_a_case_the_door_refuses_has_none_of_its_rows_read(jianan, register):
    # given a lived case and a door that does not admit it
    case = _lived_case(jianan, register)
    shut = Case.objects.filter(number="不存在的编号")
    together = Together({name: READS[name].make for name in ("events", "demands", "clocks")})
    # when the case and its rows are asked together
    cases, rows = together(shut.filter(pk=case.pk), case.pk, using="default")
    # then the statement returned no row of the case's: not read, not only not shown
    assert cases == [] and rows == {"events": [], "demands": [], "clocks": []}
    with pytest.raises(Case.DoesNotExist):
        _read(None, case.pk, ["events"])  # no membership: a door that admits nothing


def test_each_part_keeps_its_own_order(jianan, register):
    case = _lived_case(jianan, register)
    newest_first = Together({
        "events": lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("-seq"),
        "oldest": lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("at", "seq"),
    })
    cases, rows = newest_first(Case.objects.filter(pk=case.pk), case.pk, using="default")
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert len(seqs) >= 7 and [c.pk for c in cases] == [case.pk]
    assert [e.seq for e in rows["events"]] == seqs[::-1]
    assert [e.seq for e in rows["oldest"]] == seqs


@pytest.mark.parametrize("make", [
    pytest.param(lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("actor__username"),
                 id="ordered-by-a-joined-column"),
    pytest.param(lambda pk: CaseEvent.objects.filter(seq=1), id="not-keyed-by-the-id"),
    pytest.param(lambda pk: CaseEvent.objects.filter(case_id=pk).annotate(n=Value(1)),
                 id="annotated"),
    pytest.param(lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("type"),
                 id="ordered-by-a-text"),
])
def test_a_part_it_could_not_read_as_its_queryset_does_is_refused(jianan, register, make):
    case = register()
    with pytest.raises(ValueError):
        Together({"events": make})(Case.objects.filter(pk=case.pk), case.pk, using="default")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's compiled statements")
def test_sqlite_is_given_no_like_pattern_it_would_compile_the_statement_again_for(jianan, register):
    # SQLite marks a statement with ``LIKE ?`` to be parsed and planned again whenever that
    # parameter is bound: every run of a read through the door (2.6 ms more for the detail
    # with its rows at 200k). The backend (``xinfang.db.sqlite3``) gives every pattern as an
    # expression instead: the door's prefix test, the §19 scope check, Django's lookups.
    from xinfang.cases.services.scope import _HANDLED_BELOW_SQL

    case = register()
    asked = []

    def keep(execute, sql, params, many, context):
        asked.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        _read(jianan.member("clerk"), case.pk, READS)
    assert len(asked) == 1 and " LIKE " in asked[0]
    assert not re.search(r"LIKE %s", asked[0]), asked[0]
    assert " LIKE " in _HANDLED_BELOW_SQL and not re.search(r"LIKE %s", _HANDLED_BELOW_SQL)
    # nor any of Django's pattern lookups (the ledger's search): the backend writes them so
    searched = Case.objects.filter(matter__icontains="危房", number__startswith="X")
    sql, _params = searched.query.sql_with_params()
    assert sql.count(" LIKE ") == 2 and not re.search(r"LIKE %s", sql), sql


@pytest.mark.parametrize("order", ["signed_for_at", "-signed_for_at"])
def test_a_part_ordered_by_a_column_with_nulls_puts_them_where_the_database_does(
        jianan, register, order):
    # given a case assigned to two units, one of which has signed for it (the other's time NULL)
    case = _lived_case(jianan, register)
    together = Together({"assignments": lambda pk: Assignment.objects.filter(case_id=pk)
                         .order_by(order, "id")})
    # when its assignments are read ordered by that time, up and down
    _cases, rows = together(Case.objects.filter(pk=case.pk), case.pk, using="default")
    # then they come in the order the database gives the queryset itself (NULLs last going up
    # on PostgreSQL, first on SQLite)
    want = list(Assignment.objects.filter(case_id=case.pk).order_by(order, "id"))
    assert [a.signed_for_at is None for a in want] in ([True, False], [False, True])
    assert [a.pk for a in rows["assignments"]] == [a.pk for a in want]


def test_a_cases_places_are_read_by_its_own_columns_even_where_they_disagree(jianan, register):
    # given a case whose village is not under its township (not registrable; an old row), and
    # one with a township and no village
    township = jianan.townships["将官池镇"]
    village = Unit.objects.filter(level="village").exclude(parent=township).first()
    odd, bare = register(), register()
    Case.objects.filter(pk=odd.pk).update(township=township, village=village)
    Case.objects.filter(pk=bare.pk).update(township=township, village=None)
    # when each is read with its rows
    clerk = jianan.member("clerk")
    got_odd, got_bare = _read(clerk, odd.pk, ["demands"]), _read(clerk, bare.pk, [])
    # then each place is the unit its column names, read with it
    with CaptureQueriesContext(connection) as asked:
        assert (got_odd.township, got_odd.village) == (township, village)
        assert (got_bare.township, got_bare.village) == (township, None)
    assert len(asked) == 0


def test_a_second_read_asks_no_column_its_type(jianan, register, monkeypatch):
    """The columns' kinds of a kept first statement are kept by its text: the second read of a
    case (another case, the same door) asks none of them again, and reads its own rows."""
    from xinfang.db import together

    cases = [register(), register()]
    m = jianan.member("clerk")
    _read(m, cases[0].pk, ("clocks", "demands"))
    asked = []
    original = together._kind
    monkeypatch.setattr(together, "_kind", lambda *a: asked.append(1) or original(*a))
    second = _read(m, cases[1].pk, ("clocks", "demands"))
    assert asked == [] and second.pk == cases[1].pk
    assert sorted(k.pk for k in second.clocks.all()) == sorted(
        cases[1].clocks.values_list("pk", flat=True))
