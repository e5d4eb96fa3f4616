"""The ledger page's unmasked export (issue 8): masked is the plain link; names, addresses and
phones in clear need a reason typed into the page's form, which the audit entry keeps, and stay
masked wherever the disclosure rule forbids revealing them."""

import pytest
from django.urls import reverse

from tests.api.world import read_sheet, walk
from xinfang.audit.models import AuditEntry

from .conftest import signed_in

pytestmark = pytest.mark.django_db

REASON = "核对信访人身份，准备入户回访"


def test_the_ledger_page_offers_the_unmasked_export_with_a_reason_field(jianan):
    html = signed_in(jianan.member("clerk")).get(
        reverse("web:ledger"), {"state": "in_progress"}).content.decode()
    form = html.split('id="export-unmasked"', 1)[1].split("</details>", 1)[0]
    assert f'action="{reverse("web:ledger_export")}"' in form
    assert 'name="reason"' in form and "required" in form and "csrfmiddlewaretoken" in form
    assert 'name="filters" value="state=in_progress"' in form


def test_an_unmasked_export_from_the_page_reveals_for_the_office_and_is_audited(jianan):
    case = walk(jianan, "in_progress")
    client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("web:ledger_export"),
                           {"reason": REASON, "filters": "state=in_progress"})
    assert response.status_code == 200 and response.streaming
    rows = read_sheet(response.getvalue())
    assert [r[0] for r in rows[1:]] == [case.number] and rows[1][1:4] == (
        "张三明", "将官池镇岗朱村3组", "13812345678")
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["via"] == "web" and entry.detail["reason"] == REASON
    assert entry.detail["unmasked"] is True and entry.detail["filters"] == {
        "state": ["in_progress"]}


def test_an_unmasked_export_without_a_reason_goes_back_to_the_page_with_the_message(jianan):
    walk(jianan, "in_progress")
    client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("web:ledger_export"), {"reason": " ", "filters": "state=x"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:ledger") + "?state=x"
    assert "导出未脱敏的台账须填写理由" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_confidential_petitioner_stays_masked_for_a_handling_unit_even_unmasked(jianan):
    walk(jianan, "in_progress", confidential=True)
    client = signed_in(jianan.member("township"))
    rows = read_sheet(client.post(reverse("web:ledger_export"), {"reason": REASON}).getvalue())
    assert rows[1][1] == "张*明" and "13812345678" not in str(rows)
    assert AuditEntry.objects.get(action="export").detail["revealed_rows"] == 0


def test_the_unmasked_export_is_a_post_only(jianan):
    assert signed_in(jianan.member("clerk")).get(reverse("web:ledger_export")).status_code == 405


@pytest.mark.parametrize("member", ["township", "bureau", "inspector"])
def test_the_form_is_offered_only_to_roles_that_may_ever_reveal_in_a_ledger(jianan, member):
    html = signed_in(jianan.member(member)).get(reverse("web:ledger")).content.decode()
    assert 'id="export-unmasked"' not in html and 'id="export-l0"' in html


def test_an_export_too_long_to_wait_for_goes_back_to_the_page_pointing_to_the_background(
        jianan, settings):
    walk(jianan, "in_progress")
    walk(jianan, "in_progress")
    settings.XINFANG_EXPORT_WAIT_ROWS = 1
    client = signed_in(jianan.member("clerk"))
    response = client.post(reverse("web:ledger_export"),
                           {"reason": REASON, "filters": "state=in_progress"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:ledger") + "?state=in_progress"
    text = response.content.decode()
    assert "超过 1 件" in text and "后台导出" in text
    assert not AuditEntry.objects.filter(action="export").exists()
