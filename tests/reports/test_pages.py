"""The reports page and its downloads from the browser side (Django's test client) and the API:
the weekly clock, the period pickers, a bad period named, the door (a township sees only its own),
the administrators kept out, and the supervision page's rates by period and unit."""

import io
import re

import pytest
from django.urls import reverse
from docx import Document as Docx
from openpyxl import load_workbook

from tests.api.world import client_as, walk
from tests.conftest import sh
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.cases import choices as c
from xinfang.cases.services import perform

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_weekly_clock_and_the_pickers(jianan):
    html = signed_in(jianan.member("clerk")).get(reverse("reports:index")).content.decode()
    assert "统计报表" in html and 'id="weekly-clock"' in html
    assert re.search(r"距截止还剩|已超过截止", html)
    assert "本周批次尚未生成" in html
    for kind in ("monthly", "weekly", "quarterly", "scorecard"):
        assert f'id="form-{kind}"' in html
    assert 'type="month"' in html and 'type="week"' in html
    assert not re.search(r"\sstyle=", html)


def test_a_generated_batch_shows_when_it_was_made(jianan):
    client = signed_in(jianan.member("clerk"))
    html = client.get(reverse("reports:index")).content.decode()
    week = re.search(r'weekly/\?period=([0-9W-]+)', html).group(1)
    response = client.get(reverse("reports:download", args=["weekly"]) + f"?period={week}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    b"".join(response.streaming_content)
    html = client.get(reverse("reports:index")).content.decode()
    assert "本周批次已于" in html and re.search(r"（(早|晚)于截止", html)


def test_a_bad_period_is_named_and_nothing_is_audited(jianan):
    client = signed_in(jianan.member("approver"))
    before = AuditEntry.objects.filter(object_type="report").count()
    response = client.get(reverse("reports:download", args=["monthly"]) + "?period=2026-13",
                          follow=True)
    html = response.content.decode()
    assert "期间：" in html and "2026-13" in html
    assert AuditEntry.objects.filter(object_type="report").count() == before


def test_a_township_downloads_only_its_own(jianan):
    j = jianan
    mine = walk(j, "assigned", level_skipping=True)  # to 将官池镇
    other = walk(j, "assigned", lead="区民政局", lead_member="bureau", assisting=(),
                 level_skipping=True)
    response = signed_in(j.member("township")).get(
        reverse("reports:download", args=["monthly"]) + "?period=2026-09")
    doc = Docx(io.BytesIO(b"".join(response.streaming_content)))
    listed = [row.cells[1].text for row in doc.tables[2].rows[1:]]
    assert listed == [mine.number] and other.number not in listed


def test_administrators_get_no_reports(jianan):
    response = signed_in(jianan.member("sysadmin")).get(reverse("reports:index"))
    assert response.status_code in (302, 403)


def test_the_api_report_and_l4(jianan):
    j = jianan
    walk(j, "assigned", source_level=c.SourceLevel.PROVINCE, channel=c.Channel.REFERRAL)
    api = client_as(j.member("clerk"))
    response = api.get("/api/reports/scorecard?period=2026-Q3")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(b"".join(response.streaming_content)))["单位考评"]["A1"].value
    response = api.get("/api/reports/quarterly?period=2026-13")
    assert response.status_code == 400 and "period" in response.json()["errors"]
    response = api.get("/api/reports/l4.xlsx")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws["A1"].value == "省级交办信访事项办理情况统计表" and ws["A5"].value == 1
    response = api.get("/api/reports/l4.xlsx?unmasked=true")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api.get("/api/reports/l4.xlsx?week=2026-W99")
    assert response.status_code == 400 and "week" in response.json()["errors"]


# ------------------------------------------------------------ supervision: rates by period, unit


def kaijiang_cases(j):
    """kaijiang (targets of seed 002 §二): in September one case replied and rated satisfied at
    将官池镇, one in progress at 区民政局; in August one registered only."""
    done = walk(j, "delivered")
    perform("record_rating", case=done, by=j.member("clerk"), rating="satisfied")
    walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    walk(j, "registered", received_at=sh(2026, 8, 20, 9, 0))


def test_rates_take_a_period_and_split_by_unit(jurisdiction):
    from xinfang.cases.rates import counts, counts_by_unit, in_period
    from xinfang.cases.selectors import cases_for
    from xinfang.reports.periods import parse

    j = jurisdiction("kaijiang")
    kaijiang_cases(j)
    scope = cases_for(j.member("chief"))
    sept = in_period(scope, *parse("month", "2026-09").bounds())
    assert counts(scope)["received"] == 3 and counts(sept)["received"] == 2
    by_unit = counts_by_unit(sept)
    names = {j.townships["将官池镇"].pk: "将官池镇", j.bureaus["区民政局"].pk: "区民政局"}
    got = {names[k]: (n["accepted"], n["replied"], n["rated"], n["satisfied"])
           for k, n in by_unit.items()}
    assert got == {"将官池镇": (1, 1, 1, 1), "区民政局": (1, 0, 0, 0)}
    aug = counts_by_unit(in_period(scope, *parse("month", "2026-08").bounds()))
    assert list(aug) == [None] and aug[None]["received"] == 1  # not assigned
    towns = counts_by_unit(scope, "township")
    assert towns[j.townships["将官池镇"].pk]["received"] == 3


def test_the_supervision_page_states_numerator_and_denominator(jurisdiction):
    j = jurisdiction("kaijiang")
    kaijiang_cases(j)
    client = signed_in(j.member("chief"))
    html = client.get(reverse("web:supervision") + "?kind=month&period=2026-09").content.decode()
    targets = html.split('id="targets"', 1)[1].split("</section>", 1)[0]
    assert "2026年9月收到的信访件" in targets
    # 答复率 = replied / accepted: one of the two accepted in September
    assert "出具处理意见书件数 1 / 受理件数 2" in targets
    # 建档立卡率 is 100 % by construction: named so, never judged
    row = targets.split("<td>求决类信访问题建档立卡率</td>", 1)[1].split("</tr>", 1)[0]
    assert "按定义恒为100%" in row and "未达标" not in row
    table = targets.split('id="unit-rates"', 1)[1].split("</table>", 1)[0]
    assert "将官池镇" in table and "区民政局" in table
    town = table.split("将官池镇", 1)[1].split("</tr>", 1)[0]
    assert "1 / 1 · 100%" in town
    # the whole time: the August case counts too
    html = client.get(reverse("web:supervision")).content.decode()
    assert "登记建档件数 3 / 收到信访件数 3" in html
    # a bad period is named, the page still answers
    html = client.get(reverse("web:supervision") + "?kind=month&period=2026-13").content.decode()
    assert 'id="period-error"' in html and "2026-13" in html


def test_the_supervision_page_by_period_keeps_its_query_count(
        jurisdiction, django_assert_max_num_queries):
    from django.core.cache import cache

    j = jurisdiction("kaijiang")
    walk(j, "delivered")
    client = signed_in(j.member("chief"))
    url = reverse("web:supervision") + "?kind=quarter&period=2026-Q3&split=unit"
    cache.clear()
    with django_assert_max_num_queries(60) as one:
        client.get(url)
    kaijiang_cases(j)
    for _ in range(3):
        walk(j, "in_progress", lead="区民政局", lead_member="bureau", assisting=())
    cache.clear()
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_the_weekly_batch_is_looked_up_off_the_report_entries_index(jianan):
    """Whether this week's batch was made is read off the trail's index of report entries
    (``audit_report_made``, lead49), not by walking every read of a case in time order: the
    statement writes the report's object type, so either database may use the index's
    condition."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    client = signed_in(jianan.member("clerk"))
    client.get(reverse("reports:index"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("reports:index"))
    sql = next(q["sql"] for q in ctx.captured_queries
               if "audit_auditentry" in q["sql"] and "weekly" in q["sql"])
    assert "\"object_type\" IN ('report')" in sql, sql
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql.replace("%", "%%"))
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "audit_report_made" in plan, plan
