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


# --- then the line bureau of the category (issue 15; profile key ``line_bureaus``) -------------


def test_the_line_bureau_of_the_category_follows_the_township(jianan, register):
    # seed 001 二(一): 危房改造 is the housing bureau's (住建局) line
    case = walk(jianan, register(), "signed_off")
    proposals = propose_units(case=case, profile=profile_of(case.profile))
    first = proposals[0]
    housing = jianan.bureaus["区住建局"]
    assert first["assist"] == [jianan.townships["将官池镇"], housing]  # not every bureau
    by_locality = next(p for p in proposals if p["rule"] == "by_locality")
    assert by_locality["lead"] == [jianan.townships["将官池镇"]]
    assert by_locality["assist"] == [housing]
    form = AssignForm(case=case, membership=jianan.member("clerk"), now=timezone.now())
    suggested = dict(form.fields["lead"].choices)["规则建议"]
    names = [label for _pk, label in suggested]
    assert names.index("将官池镇") < names.index("区住建局")
    assert form.fields["assisting"].initial == [str(housing.pk)]


def test_a_category_without_a_bureau_keeps_every_bureau(jianan, register):
    from xinfang.cases.services import DemandInput

    case = walk(jianan, register(demands=[DemandInput(text="其他诉求", category="其他")]),
                "signed_off")
    proposals = propose_units(case=case, profile=profile_of(case.profile))
    bureaus = {u for u in proposals[0]["assist"] if u.kind == UnitKind.BUREAU}
    assert len(bureaus) == 5
    assert proposals[0]["bureaus"] == []


def test_a_line_bureau_of_an_unknown_category_is_refused_by_the_profile_checks():
    from xinfang.rules.profile import ProfileError, load_profile_text

    text = (
        "code: test\nversion: 1\nname: 测试\nseed: x\ndescription: x\nextends: national\n"
        "line_bureaus:\n  - {category: 不存在的类别, bureau: 住建局, seed: x}\n"
    )
    with pytest.raises(ProfileError) as e:
        load_profile_text(text)
    assert "不存在的类别" in str(e.value)
