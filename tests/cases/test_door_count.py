"""Cases counted in their own form (``Door.counted_cases``) — a handling unit's, and an office's
too big to list its units — the same cases as the list's form, under every exclusion, and the
form the ledger and the API count with."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cases.test_door_one import _world, fresh
from tests.conftest import register_in
from xinfang.cases.choices import AssignmentRole, AssignmentStatus
from xinfang.cases.models import Assignment, Case, Respondent
from xinfang.cases.selectors import cases_counted, cases_for, door_for
from xinfang.ledgers.filters import filter_ledger
from xinfang.org.choices import Level, UnitKind
from xinfang.org.models import Unit
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db
PG = connection.vendor == "postgresql"


def _assign(case, unit, by, status):
    Assignment.objects.create(case=case, unit=unit, role=AssignmentRole.LEAD, status=status,
                              assigned_at=timezone.now(), assigned_by=by.user,
                              receiver_name="测试")


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.mark.parametrize("most", [20_000, 0], ids=["named", "over-the-bound"])
@pytest.mark.parametrize("who", ["township", "bureau"])
def test_a_unit_is_counted_over_the_same_cases_it_lists(jianan, who, most, monkeypatch):
    # (PostgreSQL names a unit's cases by id up to ``MAX_LISTED_CASES``, then counts the list)
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", most)
    # given the unit's cases: assigned now, assigned and ended, transferred away (not its own
    # any more), one naming its unit as respondent, one it recused from, one of a unit under it
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member(who)
    clerk = jianan.member("clerk")
    unit = m.unit
    for case, status in ((plain, AssignmentStatus.ENDED), (by_case, AssignmentStatus.ACTIVE),
                         (by_words, AssignmentStatus.TRANSFERRED),
                         (accused, AssignmentStatus.ACTIVE)):
        _assign(case, unit, clerk, status)
    accused.respondents.create(unit=unit, name=unit.name)
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    under = unit.children.first()
    below = register_in(jianan, matter="反映村道硬化")
    if under is not None:
        _assign(below, under, clerk, AssignmentStatus.ACTIVE)
    m = fresh(m)
    # then the counted form and the listed form hold the same cases
    listed, counted = _ids(cases_for(m)), _ids(cases_counted(m) or cases_for(m))
    assert listed == counted
    assert plain.pk in listed and by_case.pk not in listed and by_words.pk not in listed
    assert accused.pk not in listed
    assert (below.pk in listed) == (under is not None)
    # and so do they under the ledger's filters
    for params in ({"state": "registered"}, {"search": "道路"}, {"overdue": "false"}):
        assert (_ids(filter_ledger(cases_counted(m) or cases_for(m), params, by=m))
                == _ids(filter_ledger(cases_for(m), params, by=m))), params
    # and the list names the cases by id only on PostgreSQL, under the bound
    held = Assignment.objects.filter(unit__path__startswith=unit.path,
                                     status__in=["active", "ended"])
    assert door_for(m).handled == (
        tuple(sorted(set(held.values_list("case_id", flat=True)))) if PG and most else None)


@pytest.mark.skipif(not PG, reason="PostgreSQL's prepared statements")
@pytest.mark.parametrize("who", ["township", "clerk"])
def test_a_doors_named_ids_are_written_into_the_statement(jianan, who):
    # given a unit's door naming its cases, and a county office's naming its offices
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = fresh(jianan.member(who))
    door = door_for(m)
    ids = door.handled if who == "township" else door.jurisdictions
    column = '"cases_case"."id"' if who == "township" else '"cases_case"."jurisdiction_id"'
    # when its list is compiled
    sql, params = cases_for(m).query.get_compiler(connection=connection).as_sql()
    # then the ids are a constant of the statement, not a parameter: a prepared statement's
    # generic plan, which cannot see a parameter's length, walked the busy township's cases
    # testing each against the array (PERFORMANCE.md, lead34); one id is an equality, by
    # which the county's overdue ledger walks its office's index (lead48)
    written = "{" + ",".join(map(str, ids)) + "}"
    expected = (f"{column} = {ids[0]}" if len(ids) == 1
                else f"{column} = ANY('{written}'::bigint[])")
    assert expected in sql, sql
    assert written not in [str(p) for p in params]
    assert _ids(cases_for(m)) >= ({assigned.pk} if who == "township" else {plain.pk})


@pytest.mark.skipif(not PG, reason="PostgreSQL's prepared statements")
def test_an_office_doors_kept_figures_name_its_jurisdictions_in_the_statement(jianan):
    # given a county office's door
    m = fresh(jianan.member("clerk"))
    door = door_for(m)
    # when the rows kept by jurisdiction (the figures' sums) are filtered by it
    from xinfang.figures.models import FigureSum

    sql, params = FigureSum.objects.filter(door.by_jurisdiction()).query.get_compiler(
        connection=connection).as_sql()
    # then its offices are a constant of the statement: a province's sums and a county's
    # shared one text, and the plan kept for one served the other (PERFORMANCE.md, lead35)
    offices = door.jurisdictions
    written = "{" + ",".join(map(str, offices)) + "}"
    assert (f'"jurisdiction_id" = {offices[0]}' if len(offices) == 1
            else f'"jurisdiction_id" = ANY(\'{written}\'::bigint[])') in sql, sql
    assert written not in [str(p) for p in params]


@pytest.mark.skipif(not PG, reason="PostgreSQL's plans name a handling unit's cases by id")
def test_a_units_named_cases_are_the_cases_its_assignments_name(jianan, monkeypatch):
    # given a township's cases of every assignment status, and a village under it with one
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member("township")
    clerk = jianan.member("clerk")
    for case, status in ((plain, AssignmentStatus.ENDED), (by_case, AssignmentStatus.ACTIVE),
                         (by_words, AssignmentStatus.TRANSFERRED)):
        _assign(case, m.unit, clerk, status)
    village = m.unit.children.first()
    _assign(accused, village, clerk, AssignmentStatus.ENDED)
    _assign(accused, m.unit, clerk, AssignmentStatus.ACTIVE)  # twice: named once
    # when its door names them, and when it is over the bound and asks the assignments
    named = cases_for(fresh(m))
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", 3)
    asked = cases_for(fresh(m))
    # then both hold the same cases; the first names them, the second does not
    assert door_for(fresh(m)).handled is None
    assert _ids(named) == _ids(asked) == {plain.pk, by_case.pk, accused.pk, assigned.pk}
    assert '"cases_case"."id" = ANY(' in str(named.query)
    assert "cases_assignment" not in str(named.query)
    assert "cases_assignment" in str(asked.query)


@pytest.mark.skipif(not PG, reason="PostgreSQL's plans name a handling unit's cases by id")
def test_a_unit_found_over_the_bound_is_not_read_up_to_it_again(jianan, monkeypatch):
    # given a township holding more cases than a door names, read over the bound once
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member("township")
    clerk = jianan.member("clerk")
    for case in (plain, by_case, accused):
        _assign(case, m.unit, clerk, AssignmentStatus.ENDED)
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", 3)
    first = _ids(cases_for(fresh(m)))
    # when a later request's door asks again
    with CaptureQueriesContext(connection) as q:
        assert door_for(fresh(m)).handled is None
    # then it does not read the unit's assignments up to the bound again, and lists the same
    assert not [s for s in q.captured_queries if "cases_assignment" in s["sql"]], q.captured_queries
    assert _ids(cases_for(fresh(m))) == first == {plain.pk, by_case.pk, accused.pk, assigned.pk}
    # and under a higher bound (another setting) the unit is named again
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", 10)
    assert set(door_for(fresh(m)).handled) == first


@pytest.mark.parametrize("who", ["clerk", "approver", "inspector"])
def test_a_county_office_is_counted_over_its_offices_cases(jianan, who):
    # given a county's cases, one naming the office as respondent, one recused from, and a case
    # of the county's township office (a profile of its own)
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member(who)
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    street = Unit.objects.create(name="建安街道", level=Level.TOWNSHIP, kind=UnitKind.GOVERNMENT,
                                 parent=jianan.county, profile_code="jianan")
    theirs = register_in(jianan, matter="反映道路修缮不及时")
    Case.objects.filter(pk=theirs.pk).update(jurisdiction=street)
    m = fresh(m)
    door = door_for(m)
    # then the count names only its offices (the units with a profile: the county and the
    # township office), where every case of it lies; the list names the county's units on
    # SQLite, and on PostgreSQL the offices too, counted as it is (None: lead48) ...
    assert len(door.units) > 2
    assert sorted(door.jurisdictions) == sorted([jianan.county.pk, street.pk])
    if PG:
        assert cases_counted(m) is None
        offices = ",".join(map(str, door.jurisdictions))
        assert f"'{{{offices}}}'::bigint[]" in str(cases_for(m).query)
    else:
        assert str(tuple(door.units)[-1]) in str(cases_for(m).query)
    counted_form = cases_counted(m) or cases_for(m)
    # ... and both hold the same cases
    listed, counted = _ids(cases_for(m)), _ids(counted_form)
    assert listed == counted
    assert {plain.pk, assigned.pk, theirs.pk} <= listed
    assert not {by_case.pk, accused.pk} & listed  # recused; the office itself accused
    for params in ({"state": "registered"}, {"search": "道路"}, {"overdue": "false"},
                   {"category": "其他"}):
        assert (_ids(filter_ledger(cases_counted(m) or cases_for(m), params, by=m))
                == _ids(filter_ledger(cases_for(m), params, by=m))), params


def _counts(sqls: list[str]) -> list[str]:
    return [q for q in sqls if q.startswith('SELECT COUNT(*) FROM (SELECT "cases_case"."id"')]


@pytest.mark.parametrize("url", ["/ledger/", "/api/cases/"])
def test_the_ledger_and_the_api_count_a_unit_by_its_cases_keys(client, jianan, url,
                                                                monkeypatch):
    # given a township with cases of its own and one it recused from, more of them than
    # PostgreSQL names by id
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_CASES", 0)
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member("township")
    _assign(plain, m.unit, jianan.member("clerk"), AssignmentStatus.ENDED)
    client.force_login(m.user)
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    assert response.status_code == 200
    # then the count is the counted form's (the array of the unit's cases on PostgreSQL) ...
    (count,) = _counts([x["sql"] for x in q.captured_queries])
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT xf_ca.case_id" in count, count
    else:
        assert "xf_ca.case_id" in count, count
    # ... and says what the list holds
    if url == "/api/cases/":
        assert response.json()["count"] == 2 == len(response.json()["results"])
    else:
        assert response.context["total"] == "2"
        assert len(response.context["rows"]) == 2


def _city_world(jianan, jurisdiction, monkeypatch):
    """The city clerk's door in the form a real city's takes (2,165 units are not listed:
    ``MAX_LISTED_UNITS``), over two counties' cases, one of them naming the city office as
    respondent, two the clerk recused from; and a case of another city's county."""
    monkeypatch.setattr("xinfang.cases.selectors.MAX_LISTED_UNITS", 5)
    lihai = jurisdiction("lihai")
    plain, by_case, by_words, accused, assigned = _world(jianan)
    theirs = register_in(lihai, matter="反映道路修缮不及时")
    m = jianan.member("city_clerk")
    Respondent.objects.create(case=theirs, unit=m.unit, name=m.unit.name)
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    Recusal.objects.create(user=m.user, matter_words="宅基地", reason="利害关系")
    other_city = Unit.objects.create(name="周口市", level=Level.CITY, kind=UnitKind.GOVERNMENT,
                                     parent=jianan.province, profile_code="national")
    other_county = Unit.objects.create(name="淮阳区", level=Level.COUNTY,
                                       kind=UnitKind.GOVERNMENT, parent=other_city,
                                       profile_code="jianan")
    away = register_in(jianan, matter="反映道路修缮")
    Case.objects.filter(pk=away.pk).update(jurisdiction=other_county)
    return fresh(m), plain, assigned, by_case, by_words, theirs, away


def test_an_office_too_big_to_list_is_counted_over_its_offices_cases(jianan, jurisdiction,
                                                                     monkeypatch):
    # given a city's door too big to list its units, cases in and out of it, every exclusion
    m, plain, assigned, by_case, by_words, theirs, away = _city_world(jianan, jurisdiction,
                                                                      monkeypatch)
    # then the counted form names the city's offices (itself and its two counties) ...
    assert sorted(door_for(m).jurisdictions) == sorted(
        [jianan.city.pk, jianan.county.pk, Unit.objects.get(name="沥海街道").pk])
    # ... and holds the cases the list holds
    assert "xf_du.path" in str(cases_for(m).query)
    assert "xf_du.path" not in str(cases_counted(m).query)
    listed, counted = _ids(cases_for(m)), _ids(cases_counted(m))
    assert listed == counted
    assert {plain.pk, assigned.pk} <= listed
    assert not {by_case.pk, by_words.pk, theirs.pk, away.pk} & listed
    # and so do they under the ledger's filters
    for params in ({"state": "registered"}, {"search": "道路"}, {"overdue": "false"},
                   {"category": "其他"}):
        assert (_ids(filter_ledger(cases_counted(m), params, by=m))
                == _ids(filter_ledger(cases_for(m), params, by=m))), params


@pytest.mark.parametrize("url", ["/ledger/?search=道路", "/api/cases/?search=道路", "/ledger/"])
def test_a_city_counts_its_search_by_its_offices(client, jianan, jurisdiction, monkeypatch, url):
    # given the city clerk with the world above
    m, plain, assigned, by_case, by_words, theirs, away = _city_world(jianan, jurisdiction,
                                                                      monkeypatch)
    client.force_login(m.user)
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    assert response.status_code == 200
    # then the count names the city's offices (the array on PostgreSQL), not each case's path
    (count,) = _counts([x["sql"] for x in q.captured_queries])
    assert "xf_du.path" not in count
    assert ("jurisdiction_id\" = ANY(" if connection.vendor == "postgresql"
            else "jurisdiction_id\" IN (") in count, count
    # and says what the list holds
    # 道路: the assigned case's alone (the respondent's and the other city's are out); without
    # the search, the plain, the assigned and the accused one (the county's office accused)
    shown = 1 if "search" in url else 3
    if url.startswith("/api/"):
        assert response.json()["count"] == shown == len(response.json()["results"])
    else:
        assert response.context["total"] == str(shown)
        assert len(response.context["rows"]) == shown
