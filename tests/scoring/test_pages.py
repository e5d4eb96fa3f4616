"""The scores page, its evidence lists and the ranking bulletin (Word, Excel) from the browser side
and over the API and the command line: every count links to its cases, the goals show last year's
figures month by month, a bad period is named, administrators are kept out, files are audited."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from docx import Document as Docx
from openpyxl import load_workbook

from tests.api.world import client_as
from tests.conftest import id_number
from tests.scoring.world import assigned
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.cases.services import PetitionerInput

pytestmark = pytest.mark.django_db


def person(i: int) -> list[PetitionerInput]:
    return [PetitionerInput(name=f"赵{'一二三四五六七八九十'[i]}",
                            id_number=id_number(f"33060419900101{i:03d}"))]


@pytest.fixture
def lihai(jurisdiction):
    j = jurisdiction("lihai")
    j.skipping = assigned(j, "将官池镇", level_skipping=True, petitioners=person(1))
    j.plain = assigned(j, "区民政局", petitioners=person(2))
    return j


def test_the_page_ranks_units_and_every_count_links_to_its_cases(lihai):
    j = lihai
    client = signed_in(j.member("approver"))
    html = client.get(reverse("scoring:index") + "?period=2026-Q3").content.decode()
    assert "考核评分" in html and "2026年第3季度" in html
    assert html.index("区民政局") < html.index("将官池镇")  # 98 before 93
    assert "<strong>98</strong>" in html and "<strong>93</strong>" in html
    assert "越级访（到绍赴省进京，每件）" in html and "004 §二(七)" in html
    # Without the closed-case review the page says that item counts zero.
    assert ('id="reviews-off"' in html) == (not apps.is_installed("xinfang.oversight"))
    link = (f'{reverse("scoring:cases")}?period=2026-Q3&amp;unit={j.townships["将官池镇"].pk}'
            f'&amp;point=level_skipping')
    assert link in html
    evidence = client.get(link.replace("&amp;", "&")).content.decode()
    assert j.skipping.number in evidence and j.plain.number not in evidence
    assert reverse("web:case", args=[j.skipping.pk]) in evidence
    assert 'id="bulletin-docx"' in html and 'id="bulletin-xlsx"' in html


def test_the_page_shows_goals_against_last_year(lihai):
    html = signed_in(lihai.member("chief")).get(
        reverse("scoring:index") + "?period=2026").content.decode()
    assert "工作目标（与去年同期比）" in html and "越级访减少（矛盾不上交）" in html
    assert "去年同月" in html and "12月" in html


def test_a_bad_period_is_named(lihai):
    html = signed_in(lihai.member("approver")).get(
        reverse("scoring:index") + "?period=2026-Q5").content.decode()
    assert 'id="period-error"' in html and "2026-Q5" in html
    response = signed_in(lihai.member("approver")).get(
        reverse("scoring:cases") + "?period=2026-Q3&unit=x&point=late", follow=True)
    assert "单位：" in response.content.decode()


@pytest.mark.parametrize("unit", ["\u00b2", "1\u00b2", "\u2460", "99999999999999999999999"])
def test_a_unit_that_is_no_id_is_named_on_the_page_and_over_the_api(lihai, unit):
    # "²" and "①" pass str.isdigit() and fail int(): both answered 500
    query = f"?period=2026-Q3&unit={unit}&point=level_skipping"
    response = signed_in(lihai.member("approver")).get(reverse("scoring:cases") + query,
                                                       follow=True)
    assert response.status_code == 200 and "单位：" in response.content.decode()
    api = client_as(lihai.member("approver")).get("/api/scores/cases/" + query)
    assert api.status_code == 400 and "unit" in api.json()["errors"]


def test_handlers_and_administrators_are_kept_out(lihai):
    for member in ("township", "sysadmin"):
        response = signed_in(lihai.member(member)).get(reverse("scoring:index"))
        assert response.status_code in (302, 403)


def test_the_bulletin_in_word_and_excel_is_ranked_and_audited(lihai):
    client = signed_in(lihai.member("approver"))
    before = AuditEntry.objects.filter(object_type="scores").count()
    response = client.get(reverse("scoring:bulletin", args=["docx"]) + "?period=2026-Q3")
    assert response.status_code == 200
    doc = Docx(io.BytesIO(b"".join(response.streaming_content)))
    ranking = doc.tables[0]
    assert [ranking.rows[i].cells[1].text for i in (1, 2)] == ["区民政局", "将官池镇"]
    assert ranking.rows[2].cells[-1].text == "93"
    response = client.get(reverse("scoring:bulletin", args=["xlsx"]) + "?period=2026-Q3")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["考核排名"]
    assert sheet["B5"].value == "区民政局" and sheet.cell(6, sheet.max_column).value == 93
    assert {"考核排名", "考核项目", "工作目标"} <= set(book.sheetnames)
    assert AuditEntry.objects.filter(object_type="scores").count() == before + 2
    bad = client.get(reverse("scoring:bulletin", args=["pdf"]) + "?period=2026-Q3", follow=True)
    assert "格式：" in bad.content.decode()


def test_the_api_gives_scores_evidence_and_the_bulletin(lihai):
    j = lihai
    api = client_as(j.member("approver"))
    body = api.get("/api/scores/?period=2026Q3").json()
    assert body["period"] == "2026-Q3" and body["base"] == 100
    assert [(u["rank"], u["unit"], u["score"]) for u in body["units"]] == [
        (1, "区民政局", 98.0), (2, "将官池镇", 93.0)]
    point = next(p for p in body["units"][1]["points"] if p["name"] == "level_skipping")
    assert (point["cases"], point["points"]) == (1, -5.0)
    assert {g["name"] for g in body["goals"]} == {"fewer_level_skipping", "fewer_repeat"}
    unit = j.townships["将官池镇"].pk
    cases = api.get(f"/api/scores/cases/?period=2026-Q3&unit={unit}&point=level_skipping").json()
    assert [c["number"] for c in cases["results"]] == [j.skipping.number]
    assert api.get("/api/scores/cases/?period=2026-Q3&unit=1&point=nope").status_code == 400
    assert api.get("/api/scores/?period=bad").json()["errors"]["period"]
    response = api.get("/api/scores/bulletin.xlsx?period=2026-Q3")
    assert response.status_code == 200
    assert client_as(j.member("sysadmin")).get("/api/scores/?period=2026-Q3").status_code == 403


def test_the_command_line_writes_the_bulletin(lihai, tmp_path):
    out = tmp_path / "通报.docx"
    user = lihai.member("approver").user.username
    call_command("scores", "bulletin", "--period", "2026-Q3", "--as", user, "--out", str(out))
    assert Docx(str(out)).tables[0].rows[1].cells[1].text == "区民政局"
    buf = io.StringIO()
    call_command("scores", "show", "--period", "2026", "--as", user, stdout=buf)
    assert "将官池镇\t93" in buf.getvalue() and "目标 越级访减少" in buf.getvalue()


def test_a_yearly_office_is_told_its_bulletin_is_yearly(jurisdiction):
    j = jurisdiction("datonghu")
    api = client_as(j.member("approver"))
    response = api.get("/api/scores/bulletin.docx?period=2026-Q3")
    assert response.status_code == 400 and "年度" in response.json()["errors"]["period"]
    assert api.get("/api/scores/bulletin.docx?period=2026").status_code == 200
