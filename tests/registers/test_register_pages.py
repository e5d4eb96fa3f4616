"""The register pages: a township sees and keeps its own lines, not another's; the office sees all,
resolves a backlog line with its outcome; each page offers its ledger's export with its filters
(in clear only to the office, with a reason)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import sh
from tests.web.conftest import signed_in
from xinfang.audit.models import AuditEntry
from xinfang.org.choices import Role
from xinfang.org.models import Membership, User
from xinfang.registers.models import BacklogCase, ScreeningFinding
from xinfang.registers.services import Finding, screening_record

pytestmark = pytest.mark.django_db


def finding(j, by, township="将官池镇", village="岗朱村", name="周大勇"):
    return screening_record(by=by, finding=Finding(
        screened_on=date(2026, 10, 12), township=j.townships[township],
        village=j.villages.get(village), person_name=name, contact="13700001111",
        problem="反映产业帮扶资金分配不公", category="资金项目"))


def other_township(j) -> Membership:
    user = User.objects.create(username="zhanjian", full_name="冯远")
    return Membership.objects.create(user=user, unit=j.townships["椹涧乡"], role=Role.UNIT_HANDLER)


def test_a_township_records_and_keeps_its_own_findings_on_the_page(jianan):
    j = jianan
    township = j.member("township")
    client = signed_in(township)
    page = client.get(reverse("web:screening"))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="screening-form"' in html
    assert 'id="export-l1"' in html and 'id="export-unmasked"' not in html
    response = client.post(reverse("web:screening"), {
        "s-screened_on": "2026-11-02", "s-township": j.townships["将官池镇"].pk,
        "s-village": j.villages["岗朱村"].pk, "s-person_name": "孙桂兰",
        "s-problem": "反映低保评定不公", "s-category": "民政救助", "s-is_new": "on"})
    assert response.status_code == 302
    row = ScreeningFinding.objects.get()
    assert row.township == j.townships["将官池镇"] and row.jurisdiction == j.county
    # not another township's place
    response = client.post(reverse("web:screening"), {
        "s-screened_on": "2026-11-02", "s-township": j.townships["椹涧乡"].pk,
        "s-person_name": "钱多多", "s-problem": "x", "s-category": "民政救助"})
    assert response.status_code == 400 and ScreeningFinding.objects.count() == 1
    keep = reverse("web:screening_keep", args=[row.pk])
    response = client.post(keep, {"k-solved": "yes", "k-guided": "", "k-assisted": "no",
                                  "k-dealt_by_law": "", "k-stable": "yes", "k-note": "已入户"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.solved, row.guided, row.assisted, row.stable, row.note) == (
        True, None, False, True, "已入户")
    other = signed_in(other_township(j))
    assert other.get(keep).status_code == 404
    assert other.post(keep, {"k-stable": "no"}).status_code == 404
    assert f'id="finding-{row.pk}"' not in other.get(reverse("web:screening")).content.decode()
    office = signed_in(j.member("clerk")).get(reverse("web:screening")).content.decode()
    assert f'id="finding-{row.pk}"' in office and 'id="export-unmasked"' in office


def test_a_bureau_records_its_lines_findings_on_the_page_as_their_responsible_unit(jianan):
    j = jianan
    client = signed_in(j.member("bureau"))  # 区民政局; jianan: registers.screening.by bureau
    html = client.get(reverse("web:screening")).content.decode()
    assert 'id="screening-form"' in html and "椹涧乡" in html and "将官池镇" in html
    response = client.post(reverse("web:screening"), {
        "s-screened_on": "2026-11-02", "s-township": j.townships["椹涧乡"].pk,
        "s-person_name": "孙桂兰", "s-problem": "反映低保评定不公", "s-category": "民政救助",
        "s-responsible_unit": j.member("bureau").unit.pk, "s-is_new": "on"})
    assert response.status_code == 302
    row = ScreeningFinding.objects.get()
    assert row.responsible_unit == j.member("bureau").unit
    assert f'id="finding-{row.pk}"' in client.get(reverse("web:screening")).content.decode()


def test_the_office_resolves_a_backlog_line_on_its_page(jianan):
    j = jianan
    line = BacklogCase.objects.create(
        jurisdiction=j.county, entry=BacklogCase.Entry.IMPORTED, person_name="马小红",
        reason="补助未兑现", responsible_unit=j.townships["将官池镇"], designated_at=sh(2026, 1, 1),
        problem="反映补助未兑现")
    keep = reverse("web:backlog_keep", args=[line.pk])
    township = signed_in(j.member("township"))
    html = township.get(keep).content.decode()
    assert 'id="keep-form"' in html and 'id="resolve-form"' not in html
    assert township.post(keep, {"v-outcome": "已化解"}).status_code == 403
    approver = signed_in(j.member("approver"))
    response = approver.post(keep, {"v-outcome": "", "v-stable": "yes"})
    assert response.status_code == 400
    response = approver.post(keep, {"v-outcome": "补助已发放，息诉罢访", "v-stable": "yes"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.outcome == "补助已发放，息诉罢访" and line.resolved_at is not None
    html = approver.get(reverse("web:backlog") + "?resolved=true").content.decode()
    assert f'id="backlog-{line.pk}"' in html and "马*红" in html
    html = approver.get(reverse("web:backlog") + "?resolved=false").content.decode()
    assert f'id="backlog-{line.pk}"' not in html


def test_the_unmasked_export_of_a_register_needs_a_reason_and_keeps_the_filters(jianan):
    j = jianan
    finding(j, j.member("clerk"))
    finding(j, j.member("clerk"), township="椹涧乡", village="小河村", name="钱多多")
    client = signed_in(j.member("clerk"))
    url = reverse("web:register_export", args=["l1"])
    refused = client.post(url, {"filters": "", "reason": ""})
    assert refused.status_code == 302
    filters = f"township={j.townships['椹涧乡'].pk}"
    response = client.post(url, {"filters": filters, "reason": "入户回访核对"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
                .iter_rows(values_only=True))
    assert rows[4][2] == "钱多多" and rows[5][0] is None
    entry = AuditEntry.objects.filter(action="export", object_id="L1").get()
    assert entry.detail["via"] == "web" and entry.detail["unmasked"]
    township = signed_in(j.member("township"))
    response = township.post(url, {"filters": "", "reason": "想看"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
                .iter_rows(values_only=True))
    assert rows[4][2] == "周*勇"  # asked in clear, the township still reads masked
    assert signed_in(j.member("clerk")).post(
        reverse("web:register_export", args=["l9"]), {"reason": "x"}).status_code == 404
