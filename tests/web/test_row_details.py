"""A list's rows (work queue, ledger, supervision) show beside each case what ``row_details``
reads for all the rows at once as plain values: they must say what the case's relations say,
read one case at a time through the models."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.conftest import id_number
from xinfang.cases import choices as c
from xinfang.cases.models import Case
from xinfang.cases.services import DemandInput, PetitionerInput, perform
from xinfang.security.masking import mask_name
from xinfang.web.present import clock_view
from xinfang.web.queues import rows

from .conftest import walk

pytestmark = pytest.mark.django_db


def person(n: int, role=c.PetitionerRole.MAIN) -> PetitionerInput:
    born = date(1970, 3, 1) + timedelta(days=n)
    return PetitionerInput(name=f"欧阳{n}号", role=role,
                           id_number=id_number(f"411023{born:%Y%m%d}123"))


def straight(case: Case, now) -> dict:
    """What a row shows beside ``case``, from the case's relations one by one."""
    links = case.petitioner_links.filter(role__in=c.PETITIONING_ROLES).order_by("pk")
    running = sorted(case.clocks.filter(status="running"), key=lambda k: (k.due_at, k.pk))
    leads = (case.assignments.filter(role=c.AssignmentRole.LEAD)
             .exclude(status=c.AssignmentStatus.TRANSFERRED).order_by("assigned_at", "pk"))
    return {
        "petitioner": "、".join(mask_name(link.petitioner.name) for link in links),
        "categories": "、".join(dict.fromkeys(d.category for d in case.demands.order_by("seq"))),
        "clocks": [(k.pk, k.label, k.due_at, clock_view(k, now).tone, clock_view(k, now).text)
                   for k in running],
        "units": [a.unit.name for a in leads],
    }


def shown(row) -> dict:
    return {
        "petitioner": row.petitioner,
        "categories": row.categories,
        "clocks": [(v.clock.pk, v.label, v.clock.due_at, v.tone, v.text) for v in row.clocks],
        "units": row.case.lead_units,
    }


def test_the_rows_say_what_each_cases_relations_say(jianan, register):
    j = jianan
    # two petitioning people, a companion (not shown), and the main one a representative's
    several = register(
        petitioners=[person(1), person(2, c.PetitionerRole.COMPANION),
                     person(3, c.PetitionerRole.REPRESENTATIVE)],
        demands=[DemandInput(text="危房改造补助", category="危房改造"),
                 DemandInput(text="低保", category="民政救助"),
                 DemandInput(text="危房鉴定", category="危房改造")],
        matter="反映危房改造补助和低保未落实")
    plain = register(petitioners=[person(4)], matter="反映低保未落实",
                     demands=[DemandInput(text="低保", category="民政救助")])
    handled = walk(j, register(petitioners=[person(5)]), "in_progress")  # stopped clocks too
    transferred = walk(j, register(petitioners=[person(6)]), "in_progress")
    perform("transfer_to_discipline", case=transferred, by=j.member("approver"),
            unit=j.discipline, reason="反映村干部截留补助", receiver_name="吴刚")
    ids = [several.pk, plain.pk, handled.pk, transferred.pk]
    now = timezone.now()

    made = rows(Case.objects.filter(pk__in=ids).order_by("pk"), now, lead_units=True)

    assert [r.case.pk for r in made] == sorted(ids)
    for row in made:
        assert shown(row) == straight(Case.objects.get(pk=row.case.pk), now), row.case.number
    by_pk = {r.case.pk: r for r in made}
    assert by_pk[several.pk].petitioner == "欧**号、欧**号"  # the companion is not shown
    assert by_pk[several.pk].categories == "危房改造、民政救助"  # once each, in the demands' order
    assert by_pk[handled.pk].case.lead_units == ["将官池镇"]
    # the township's lead, transferred, gives way to the discipline body's
    assert by_pk[transferred.pk].case.lead_units == [j.discipline.name]
    assert all(v.clock.status == "running" for r in made for v in r.clocks)
    assert any(len(r.clocks) > 1 for r in made)


def test_rows_of_no_cases_read_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows(Case.objects.none(), timezone.now(), lead_units=True) == []
