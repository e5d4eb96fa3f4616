"""The permission door for one case (``Door.apply_one``: the case page, an action, the API's
detail) lets through exactly what the list door (``Door.apply``) lets through — same scope, same
respondent and recusal exclusions — while reading nothing before the statement that reads the
case (issue 9: the unit subtree and the recusals are not read per request for one case)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in
from xinfang.cases.models import Case, Respondent
from xinfang.cases.selectors import case_for, cases_for, door_build
from xinfang.cases.services import perform
from xinfang.org.models import Membership
from xinfang.security.models import Recusal

pytestmark = pytest.mark.django_db


def fresh(m: Membership) -> Membership:
    return Membership.objects.select_related("user", "unit", "unit__parent").get(pk=m.pk)


def _world(jianan):
    plain = register_in(jianan)
    by_case = register_in(jianan, matter="反映低保评定不公")
    by_words = register_in(jianan, matter="反映宅基地纠纷未处理")
    accused = register_in(jianan, matter="反映镇干部作风问题")
    Respondent.objects.create(case=accused, unit=jianan.member("clerk").unit, name="信访局")
    assigned = register_in(jianan, matter="反映道路修缮")
    assigned = perform("propose", case=assigned, by=jianan.member("clerk"), expected_version=1,
                       proposal="交将官池镇")
    assigned = perform("sign_off", case=assigned, by=jianan.member("approver"),
                       expected_version=assigned.version)
    perform("assign", case=assigned, by=jianan.member("clerk"),
            expected_version=assigned.version, lead=jianan.townships["将官池镇"],
            receiver_name="陈晓东")
    return plain, by_case, by_words, accused, assigned


def _seen(m: Membership, one: bool) -> set[int]:
    return set(cases_for(fresh(m), one=one).values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["clerk", "approver", "township", "bureau"])
def test_one_case_door_and_list_door_agree(jianan, who):
    # given cases in and out of scope, one naming the user's unit as respondent
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = jianan.member(who)
    # and recusals of every kind: a case, a petitioner (of the plain case), words of a matter
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    Recusal.objects.create(user=m.user, matter_words="宅基地", reason="利害关系")
    # then the door for one case and the door for lists see the same cases
    seen = _seen(m, one=True)
    assert seen == _seen(m, one=False)
    assert by_case.pk not in seen and by_words.pk not in seen
    if who in ("clerk", "approver"):
        assert {plain.pk, assigned.pk} <= seen and accused.pk not in seen
    if who == "township":
        assert seen == {assigned.pk}
    # (every case here names the same petitioner: a recusal from them hides them all)
    Recusal.objects.create(user=m.user, petitioner=plain.main_petitioner, reason="同学")
    assert _seen(m, one=True) == _seen(m, one=False) == set()


def test_case_for_reads_one_statement_and_refuses_what_the_door_refuses(jianan):
    plain, by_case, by_words, accused, assigned = _world(jianan)
    clerk = fresh(jianan.member("clerk"))
    clerk.unit.jurisdiction()  # the unit tree above the user (one read per request, not here)
    with CaptureQueriesContext(connection) as q:
        case = case_for(clerk, plain.pk)
    # one statement through the door; the township and the village in a second, not joined in
    # (eight relations took PostgreSQL 6.6 ms to plan at 1M cases)
    assert len(q.captured_queries) == 2, [x["sql"] for x in q.captured_queries]
    door, places = (x["sql"] for x in q.captured_queries)
    assert "LEFT OUTER JOIN" not in door, door
    assert places.startswith('SELECT "org_unit"') and "cases_case" not in places, places
    with CaptureQueriesContext(connection) as q:
        assert (case.township, case.village) == (plain.township, plain.village)
        assert case.township.name and case.village.name
    assert not q.captured_queries
    assert case.xf_recused is False
    for hidden in (accused,):
        with pytest.raises(Case.DoesNotExist):
            case_for(clerk, hidden.pk)
    Recusal.objects.create(user=clerk.user, matter_words="低保", reason="亲属")
    with pytest.raises(Case.DoesNotExist):
        case_for(fresh(jianan.member("clerk")), by_case.pk)
    assert case_for(fresh(jianan.member("clerk")), plain.pk).xf_recused is True


def test_a_membership_reads_its_jurisdiction_with_its_unit(jianan):
    # the clerk's office sits right under its county: no walk of the unit tree for the door
    clerk = fresh(jianan.member("clerk"))
    with CaptureQueriesContext(connection) as q:
        door = door_build(clerk)
    assert door.kind == "office" and not q.captured_queries


def test_recused_words_are_taken_literally_by_both_doors(jianan):
    # given a case whose matter has no "%" and no "_" (the one-case door writes its recusal test
    # as SQL text: LIKE's wildcards in the words must match themselves, as in the list door)
    case = register_in(jianan, matter="反映低保评定不公")
    m = jianan.member("clerk")
    Recusal.objects.create(user=m.user, matter_words="低_评", reason="利害关系")
    Recusal.objects.create(user=m.user, matter_words="%", reason="利害关系")
    Recusal.objects.create(user=m.user, matter_words="低保", reason="已撤回", is_active=False)
    # then neither door hides it
    assert case.pk in _seen(m, one=True)
    assert _seen(m, one=True) == _seen(m, one=False)
    # and words the matter does contain hide it from both
    Recusal.objects.create(user=m.user, matter_words="低保评定", reason="亲属")
    assert case.pk not in _seen(m, one=True)
    assert _seen(m, one=True) == _seen(m, one=False)


@pytest.mark.parametrize("who", ["clerk", "township"])
def test_the_respondent_annotation_names_the_unit_above_and_the_user(jianan, who):
    # given a case that names the unit above the user's, and one that names the user
    from xinfang.cases.services.transitions import lock_case

    above, named, plain = register_in(jianan), register_in(jianan), register_in(jianan)
    m = fresh(jianan.member(who))
    parent = m.unit.parent
    Respondent.objects.create(case=above, unit=parent, name="上级")
    Respondent.objects.create(case=named, user=m.user, name="本人")
    # then the locking read says so for both, and not for a case that names neither
    assert lock_case(above.pk, by=m).xf_respondent is True
    assert lock_case(named.pk, by=m).xf_respondent is True
    assert lock_case(plain.pk, by=m).xf_respondent is False
    assert lock_case(plain.pk, by=m).xf_recused is False
    Recusal.objects.create(user=m.user, matter_words="无关", reason="利害关系")
    assert lock_case(plain.pk, by=m).xf_recused is True


@pytest.mark.parametrize("who", ["clerk", "approver", "city_clerk", "township"])
def test_the_door_of_one_jurisdiction_is_the_door_narrowed_to_it(jianan, who):
    # given cases in and out of scope, respondent and recusal exclusions among them
    plain, by_case, by_words, accused, assigned = _world(jianan)
    m = fresh(jianan.member(who))
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    Recusal.objects.create(user=m.user, matter_words="宅基地", reason="利害关系")
    door = door_build(fresh(m))
    # then for the county (inside an office's subtree; outside a unit's), and for a unit no
    # case names as its jurisdiction, cases_in is all_cases narrowed to that jurisdiction
    for j in (jianan.county, jianan.city, jianan.townships["将官池镇"]):
        expected = set(door.all_cases().filter(jurisdiction=j).values_list("pk", flat=True))
        assert set(door.cases_in(j).values_list("pk", flat=True)) == expected
    county = set(door.cases_in(jianan.county).values_list("pk", flat=True))
    if who in ("clerk", "approver"):
        assert county == {plain.pk, assigned.pk}
    if who == "township":
        assert county == {assigned.pk}
    # and an office's own jurisdiction is read without the subtree's list of ids (on
    # PostgreSQL the door's list names its one office already, as an equality: lead48)
    if who in ("clerk", "approver"):
        if connection.vendor == "postgresql":
            assert re.search(rf'"jurisdiction_id" = {jianan.county.pk}\b',
                             str(door.all_cases().query))
            assert "= ANY(" not in str(door.cases_in(jianan.county).query)
        else:
            subtree = "jurisdiction_id\" IN ("
            assert subtree in str(door.all_cases().query)
            assert subtree not in str(door.cases_in(jianan.county).query)


@pytest.mark.parametrize("who", ["clerk", "inspector"])
def test_a_door_too_big_to_list_its_units_reads_the_same_cases(jianan, monkeypatch, jurisdiction,
                                                               who):
    """A province's or a big city's door (more units than ``MAX_LISTED_UNITS``) tests each
    case's jurisdiction where the case is read: the same cases, the same exclusions, and not
    another office's."""
    from xinfang.cases import selectors

    plain, by_case, by_words, accused, assigned = _world(jianan)
    elsewhere = register_in(jurisdiction("kaijiang"))
    m = jianan.member(who)
    Recusal.objects.create(user=m.user, case=by_case, reason="亲属")
    listed = _seen(m, one=False)
    monkeypatch.setattr(selectors, "MAX_LISTED_UNITS", 3)
    assert not isinstance(door_build(fresh(m)).units, list)
    assert _seen(m, one=False) == listed == _seen(m, one=True)
    assert elsewhere.pk not in listed and accused.pk not in listed and by_case.pk not in listed
    assert plain.pk in listed
