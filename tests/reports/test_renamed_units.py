"""A renamed unit's past: a period's tables name a unit as it was on the period's last day (撤镇设
街道 in October: September's bulletin, Q3's analysis, scorecard and scores still say 将官池镇),
while the live lists say what it is called now. The rename is kept by ``unit_update`` with the day
it took effect; nothing of the history is removed."""

import importlib
import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.world import walk
from tests.reports.test_outputs import build, docx_of, person, seed, signed
from tests.scoring.world import assigned
from xinfang.audit.models import AuditEntry
from xinfang.org.models import Membership, Unit, UnitName, names_then, names_told_apart
from xinfang.reports.periods import parse
from xinfang.rules.store import current_version, profile_of
from xinfang.scoring.points import unit_scores
from xinfang.scoring.services import scores_bulletin_build
from xinfang.web.admin_services import AdminRefused, unit_update

pytestmark = pytest.mark.django_db


def rename(j, unit, name, effective=None):
    return unit_update(by=j.member("sysadmin"), unit=unit, name=name,
                       short_name=unit.short_name, profile_code=unit.profile_code,
                       phone=unit.phone, effective=effective)


def test_septembers_bulletin_and_q3s_analysis_keep_the_townships_name_of_then(jianan):
    # given September's petitions in 将官池镇, renamed 将官池街道 from 1 October
    j = jianan
    seed(j)
    rename(j, j.townships["将官池镇"], "将官池街道", effective=date(2026, 10, 1))
    # when the September bulletin and the third quarter's analysis are built now
    _b, data = build("monthly", "2026-09", j.member("approver"))
    _h, _text, tables, _i = docx_of(data)
    # then both name the township as it was in September, in the table and in the list
    assert {row[0] for row in tables[1][1:]} == {"将官池镇", "五女店镇"}
    assert {row[3] for row in tables[2][1:]} >= {"将官池镇岗朱村"}
    _b, data = build("quarterly", "2026-Q3", j.member("chief"))
    _h, text, tables, _i = docx_of(data)
    assert {row[0]: row[1] for row in tables[1][1:]}["将官池镇"] == "4"
    assert "将官池街道" not in text + str(tables)
    # and the live names are today's
    town = j.townships["将官池镇"]
    assert names_told_apart([town.pk]) == {town.pk: "将官池街道"}


def test_a_rename_within_the_period_gives_the_name_at_its_end(jianan):
    j = jianan
    seed(j)
    rename(j, j.townships["将官池镇"], "将官池街道", effective=date(2026, 9, 30))
    _b, data = build("monthly", "2026-09", j.member("approver"))
    _h, _text, tables, _i = docx_of(data)
    assert {row[0] for row in tables[1][1:]} == {"将官池街道", "五女店镇"}
    # August, before it, has the old one
    town = j.townships["将官池镇"]
    assert names_then(date(2026, 9, 1)) == {town.pk: "将官池镇"}
    assert names_then(date(2026, 10, 1)) == {}  # in force on September's last day: no change


def test_the_scorecard_and_a_renamed_office_keep_their_names_of_then(jurisdiction):
    # given lihai's Q3 with a case led by 区民政局, the bureau and the office renamed since
    j = jurisdiction("lihai")
    walk(j, "in_progress", case=signed(j, petitioners=person(1)), lead="区民政局",
         lead_member="bureau", assisting=())
    rename(j, j.bureaus["区民政局"], "区民政和社会事务局", effective=date(2026, 11, 2))
    rename(j, j.county, "沥海新区", effective=date(2026, 11, 2))
    # when the third quarter's scorecard is built
    _b, data = build("scorecard", "2026-Q3", j.member("chief"))
    ws = load_workbook(io.BytesIO(data))["单位考评"]
    # then its title and rows are as they were in Q3
    assert ws["A1"].value == "沥海街道信访工作单位考评表（2026年第3季度）"
    rows = {ws.cell(r, 1).value for r in range(5, ws.max_row + 1)}
    assert "区民政局" in rows and "区民政和社会事务局" not in rows
    # and the fourth quarter's (running: today's names; the member read afresh, as a request)
    _b, data = build("scorecard", "2026-Q4", Membership.objects.get(pk=j.member("chief").pk))
    assert load_workbook(io.BytesIO(data))["单位考评"]["A1"].value.startswith("沥海新区")


def test_scores_and_their_bulletin_rank_a_renamed_unit_under_its_name_of_then(jurisdiction):
    j = jurisdiction("lihai")
    assigned(j, "将官池镇", petitioners=person(2))
    rename(j, j.townships["将官池镇"], "将官池社区", effective=date(2026, 10, 8))
    q3 = parse("quarter", "2026-Q3")
    now = timezone.now()
    s = unit_scores(by=j.member("approver"), profile=profile_of(current_version("lihai")),
                    period=q3, as_of=now)
    assert [u.unit for u in s.units] == ["将官池镇"]
    built = scores_bulletin_build(by=j.member("approver"), period=q3, fmt="xlsx", now=now)
    with built.file as f:
        ws = load_workbook(io.BytesIO(f.read())).worksheets[0]
    cells = {c.value for row in ws.iter_rows() for c in row if c.value}
    assert "将官池镇" in cells and "将官池社区" not in cells


def test_a_rename_is_kept_with_its_day_and_checked(jianan):
    j = jianan
    town = j.townships["将官池镇"]
    today = timezone.localdate()
    # a day to come, or before the last rename, is refused naming the field; nothing written
    with pytest.raises(AdminRefused, match="晚于今天") as e:
        rename(j, town, "将官池街道", effective=today + timedelta(days=1))
    assert e.value.field == "effective"
    rename(j, town, "将官池街道", effective=date(2026, 10, 1))
    with pytest.raises(AdminRefused, match=r"早于上次更名（2026-10-01起称“将官池街道”）") as e:
        rename(j, Unit.objects.get(pk=town.pk), "将官池镇", effective=date(2026, 9, 1))
    assert e.value.field == "effective"
    # a second rename on a later day (no day given: today), and nothing removed
    rename(j, Unit.objects.get(pk=town.pk), "将官池新街道")
    assert list(UnitName.objects.filter(unit=town).order_by("pk")
                .values_list("name", "valid_from")) == [
        ("将官池镇", None), ("将官池街道", date(2026, 10, 1)), ("将官池新街道", today)]
    assert names_then(date(2026, 10, 1))[town.pk] == "将官池镇"
    assert names_then(date(2026, 10, 2))[town.pk] == "将官池街道"
    entry = AuditEntry.objects.filter(detail__change="unit_update").latest("id")
    assert entry.detail["name"] == ["将官池街道", "将官池新街道"]
    assert entry.detail["effective"] == today.isoformat()
    # a change of phone alone writes no name
    unit_update(by=j.member("sysadmin"), unit=Unit.objects.get(pk=town.pk), name="将官池新街道",
                short_name="", profile_code="", phone="0374-1234567",
                effective=date(2020, 1, 1))
    assert UnitName.objects.filter(unit=town).count() == 3


def test_the_migration_seeds_each_units_present_name(jianan):
    # given units without a history (made before it was kept)
    UnitName.objects.all().delete()
    seeding = importlib.import_module("xinfang.org.migrations.0006_unit_name_history")
    # when the migration's seeding runs
    seeding.seed_present_names(apps, SimpleNamespace(connection=connection))
    # then each unit has its present name, from before any rename
    assert set(UnitName.objects.values_list("unit_id", "name", "valid_from")) == {
        (pk, name, None) for pk, name in Unit.objects.values_list("pk", "name")}


def test_the_supervision_pages_rates_of_a_past_quarter_name_units_as_then(jurisdiction):
    from django.urls import reverse

    from tests.web.conftest import signed_in

    # given lihai's Q3 case led by 区民政局, renamed in November
    j = jurisdiction("lihai")
    walk(j, "in_progress", case=signed(j, petitioners=person(1)), lead="区民政局",
         lead_member="bureau", assisting=())
    rename(j, j.bureaus["区民政局"], "区民政和社会事务局", effective=date(2026, 11, 2))
    client = signed_in(j.member("chief"))
    url = reverse("web:supervision")
    # when the chief reads the rates per unit of Q3, and of all time
    q3 = client.get(url, {"kind": "quarter", "period": "2026-Q3"}).context["unit_rates"]
    live = client.get(url).context["unit_rates"]
    # then Q3's say the name of then, the live page today's
    assert "区民政局" in {r.unit for r in q3} and "区民政和社会事务局" not in {r.unit for r in q3}
    assert "区民政和社会事务局" in {r.unit for r in live}


def test_a_period_not_ended_reads_no_history(jianan, django_assert_num_queries):
    rename(jianan, jianan.townships["将官池镇"], "将官池街道")  # from today
    tomorrow = timezone.localdate() + timedelta(days=1)
    with django_assert_num_queries(0):
        assert names_then(tomorrow) == {}
    with django_assert_num_queries(1):
        assert names_then(timezone.localdate()) == {jianan.townships["将官池镇"].pk: "将官池镇"}


def test_the_unit_page_takes_the_renames_day_names_a_wrong_one_and_lists_the_names(jianan):
    from django.urls import reverse

    from tests.web.conftest import signed_in

    town = jianan.townships["椹涧乡"]
    client = signed_in(jianan.member("sysadmin"))
    url = reverse("web:admin_unit", args=[town.pk])
    # a day to come is refused on its field, nothing renamed
    later = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(url, {"e-name": "椹涧镇", "e-effective": later})
    assert response.status_code == 400
    assert "晚于今天" in str(response.context["form"].errors["effective"])
    assert Unit.objects.get(pk=town.pk).name == "椹涧乡"
    # a day past is kept, and the page lists the names
    assert client.post(url, {"e-name": "椹涧镇", "e-effective": "2026-10-01"}).status_code == 302
    page = client.get(url).content.decode()
    assert "名称沿革" in page and "椹涧乡" in page and "2026-10-01" in page
