"""A case's own rows read by statements compiled once (``cases.related``, ``db.fixed``): the
same instances the ORM builds, hung where ``prefetch_related`` hangs them."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from xinfang.cases import choices as c
from xinfang.cases.models import Case, CaseEvent, Delivery, Demand
from xinfang.cases.related import READS, read_related
from xinfang.cases.services import perform
from xinfang.db.fixed import FixedRead

pytestmark = pytest.mark.django_db


def _fields(obj):
    return None if obj is None else [getattr(obj, f.attname)
                                     for f in type(obj)._meta.concrete_fields]


def _seen(obj, joined: dict):
    """Every column of ``obj`` and of each object joined to it (``select_related``'s tree)."""
    if obj is None:
        return None
    return (_fields(obj), obj._state.db, obj._state.adding,
            [_seen(getattr(obj, name), below) for name, below in sorted(joined.items())])


def _lived_case(jianan, register):
    j = jianan
    clerk, approver, township, bureau = (j.member(k) for k in
                                         ("clerk", "approver", "township", "bureau"))
    case = register(source_level=c.SourceLevel.PROVINCE, source_office="河南省乡村振兴局")
    for name, by, params in [
        ("propose", clerk, {"proposal": "交将官池镇牵头，区民政局协办"}),
        ("sign_off", approver, {"note": "同意"}),
        ("assign", clerk, {"lead": j.townships["将官池镇"], "assisting": [j.bureaus["区民政局"]],
                           "receiver_name": "陈晓东", "responsible_person": "陈晓东"}),
        ("sign_for", township, {}),
        ("deliver_acceptance_notice", township,
         {"mode": "in_person", "deliverer": "陈晓东", "recipient": "张三明"}),
        ("submit_report", township, {"kind": "initial", "text": "初步核实"}),
    ]:
        case = perform(name, case=case, by=by, expected_version=case.version, **params)
    return case


def test_a_cases_rows_read_once_compiled_are_the_querysets_instances(jianan, register):
    case = _lived_case(jianan, register)
    held = Case.objects.get(pk=case.pk)
    with CaptureQueriesContext(connection) as read:
        read_related(held, READS)
    # one statement a relation, and one for the documents' deliveries
    assert len(read) == len(READS) + 1
    for name, fixed in READS.items():
        orm = list(fixed.make(case.pk))
        joined = fixed.make(case.pk).query.select_related or {}
        with CaptureQueriesContext(connection) as asked:
            rows = list(getattr(held, name).all())
            assert all(row.case is held for row in rows)
        assert len(asked) == 0, name
        assert [_seen(r, joined) for r in rows] == [_seen(r, joined) for r in orm], name
    counts = dict(Case.objects.filter(pk=case.pk).annotate(
        n=Count("assignments")).values_list("pk", "n"))
    assert counts[case.pk] == len(held.assignments.all()) == 2
    # an outer join's missing row: the assisting unit has not signed for it
    assert any(a.signed_for_by is None for a in held.assignments.all())
    assert any(a.signed_for_by is not None for a in held.assignments.all())
    documents = held.documents.all()
    assert documents, "the acceptance notice"
    for doc in documents:
        with CaptureQueriesContext(connection) as asked:
            got = list(doc.deliveries.all())
            assert all(d.document is doc for d in got)
        assert len(asked) == 0
        want = list(Delivery.objects.filter(document=doc))
        assert [_fields(d) for d in got] == [_fields(d) for d in want]
    assert any(doc.deliveries.all() for doc in documents)
    # the people as stored (encrypted columns read back in clear), with their places
    link = held.petitioner_links.all()[0]
    assert link.petitioner.name == case.petitioner_links.get(pk=link.pk).petitioner.name
    assert link.petitioner.township is not None


def test_a_relation_already_held_is_not_read_again(jianan, register):
    case = register()
    held = Case.objects.get(pk=case.pk)
    read_related(held, ["demands"])
    with CaptureQueriesContext(connection) as again:
        read_related(held, ["demands", "clocks"])
    assert len(again) == 1 and "cases_clock" in again[0]["sql"]


def test_a_fixed_read_refuses_a_statement_it_could_not_answer_the_same():
    twice = FixedRead(lambda pk: Demand.objects.filter(case_id=pk, case__repeat_of_id=pk))
    with pytest.raises(ValueError, match="once"):
        twice(1, using="default")
    unsigned = FixedRead(lambda pk: Demand.objects.filter(seq=pk))
    with pytest.raises(ValueError, match="no negative"):
        unsigned(1, using="default")
    counted = FixedRead(lambda pk: Demand.objects.filter(case_id=pk).annotate(n=Count("id")))
    with pytest.raises(ValueError, match="columns"):
        counted(1, using="default")
    for shape in ({"flat": True}, {"named": True}):
        kind = FixedRead(lambda pk, shape=shape: Demand.objects.filter(case_id=pk).values_list(
            "text", **shape))
        with pytest.raises(ValueError, match="columns"):
            kind(1, using="default")
    mapped = FixedRead(lambda pk: Demand.objects.filter(case_id=pk).values("text"))
    with pytest.raises(ValueError, match="columns"):
        mapped(1, using="default")


def test_a_fixed_read_of_values_is_the_querysets_tuples(jianan, register):
    case = _lived_case(jianan, register)

    columns = ("at", "type", "payload", "actor__username", "actor_unit__name")
    fixed = FixedRead(lambda pk: CaseEvent.objects.filter(case_id=pk).order_by("seq")
                      .values_list(*columns))
    rows = fixed(case.pk, using="default")
    assert rows == list(case.events.order_by("seq").values_list(*columns))
    assert len(rows) > 5 and all(isinstance(row[2], dict) for row in rows)


def test_a_fixed_read_takes_its_key_as_the_orm_would(jianan, register):
    case = register()
    demands = FixedRead(lambda pk: Demand.objects.filter(case_id=pk))
    assert [d.pk for d in demands(str(case.pk), using="default")] == [
        d.pk for d in Demand.objects.filter(case_id=case.pk)]
    coded = FixedRead(lambda code: Case.objects.filter(number=code).values_list("pk"),
                      text=True)
    assert coded(case.number, using="default") == [(case.pk,)]
    assert coded(case.number + "x", using="default") == []


def test_a_cases_places_are_its_township_and_village_read_in_one_statement(jianan, register):
    from xinfang.cases.selectors import with_places
    from xinfang.org.models import Unit

    township = jianan.townships["将官池镇"]
    village = Unit.objects.filter(parent=township, level="village").first()
    case = register(township=township, village=village)
    held = Case.objects.get(pk=case.pk)
    with CaptureQueriesContext(connection) as read:
        with_places(held)
        assert (held.township, held.village) == (township, village)
    assert len(read) == 1
    assert _fields(held.township) == _fields(Unit.objects.get(pk=township.pk))
    assert _fields(held.village) == _fields(Unit.objects.get(pk=village.pk))
    # a village not under the case's township (not registrable; an old row): both by id
    other = Unit.objects.filter(level="village").exclude(parent=township).first()
    Case.objects.filter(pk=case.pk).update(village=other)
    held = Case.objects.get(pk=case.pk)
    with_places(held)
    assert (held.township, held.village) == (township, other)
