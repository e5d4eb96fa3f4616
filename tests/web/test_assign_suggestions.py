"""Assignment suggestions follow the locality (issue 15): the township of the case first and
alone, never the office itself; the assisting list leaves out the office and the discipline
commission."""

import pytest
from django.utils import timezone

from xinfang.cases.services import propose_units
from xinfang.org.choices import UnitKind
from xinfang.rules.store import profile_of
from xinfang.web.forms.actions import AssignForm

from .conftest import walk

pytestmark = pytest.mark.django_db


def test_the_township_of_the_locality_is_the_only_suggested_township(jianan, register):
    case = walk(jianan, register(), "signed_off")
    proposals = propose_units(case=case, profile=profile_of(case.profile))
    named = [u for p in proposals for u in (*p["lead"], *p["assist"])]
    townships = {u for u in named if u.kind == UnitKind.TOWNSHIP}
    assert townships == {jianan.townships["将官池镇"]}
    # seed 001 二(五): a first petition is led by 区乡村振兴局 with the township and bureaus
    assert proposals[0]["lead"] == [jianan.office]
    assert jianan.townships["将官池镇"] in proposals[0]["assist"]


def test_the_assign_form_offers_neither_the_office_nor_discipline_as_assisting(jianan, register):
    case = walk(jianan, register(), "signed_off")
    form = AssignForm(case=case, membership=jianan.member("clerk"), now=timezone.now())
    offered = {label for _pk, label in form.fields["assisting"].choices}
    assert jianan.office.name not in offered and jianan.discipline.name not in offered
    assert "区民政局" in offered
