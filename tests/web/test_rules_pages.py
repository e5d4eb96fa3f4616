"""The profile in force and the working calendar: what each jurisdiction runs under, and loading a
new year's holiday notice from the browser — every bad line named at once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.rules.models import CalendarYear

from .conftest import signed_in

pytestmark = pytest.mark.django_db

GOOD_2027 = """# 国务院办公厅关于2027年部分节假日安排的通知
year 2027
holiday 2027-01-01 2027-01-03 元旦
holiday 2027-02-06 2027-02-12 春节
workday 2027-02-20 春节
"""
BAD_2027 = """year 2027
holiday 2027-02-30 元旦
workday 2027-02-22 春节
holiday 2027-05-01 2027-05-05
nonsense line
"""


def upload(text: str, name: str = "2027.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/plain")


def test_the_profile_page_lists_jianans_24_hour_clock(jianan):
    html = signed_in(jianan.member("clerk")).get(reverse("web:rules_profiles")).content.decode()
    section = html.split('id="profile-jianan"', 1)[1].split("</section>", 1)[0]
    row = section.split("重访、越级访24小时内明确责任单位和责任人", 1)[1].split("</tr>", 1)[0]
    assert (
        "24小时" in row
        and "受理登记" in row
        and "交办" in row
        and "本方案 二(五)" in row
        and "001" not in row
    )
    assert "第 5 版" in section and "建安区" in section  # v5: the reassignment (reassign58)
    assert "上级核查报结情况：实地核查、书面核查" in section  # oversight.verification
    assert "复查申请期限" in section  # the review windows are clocks too


def test_the_sysadmin_sees_every_jurisdictions_profile(jianan, jurisdiction):
    jurisdiction("kaijiang")
    html = signed_in(jianan.member("sysadmin")).get(reverse("web:rules_profiles")).content.decode()
    for code in ("jianan", "kaijiang", "national"):
        assert f'id="profile-{code}"' in html
    kaijiang = html.split('id="profile-kaijiang"', 1)[1].split("</section>", 1)[0]
    assert "答复率" in kaijiang and "100%" in kaijiang


def test_a_malformed_notice_names_every_bad_line(jianan):
    client = signed_in(jianan.member("sysadmin"))
    response = client.post(reverse("web:rules_calendar"), {"file": upload(BAD_2027)})
    html = response.content.decode()
    assert response.status_code == 400
    errors = html.split('id="notice-errors"', 1)[1].split("</div>", 1)[0]
    for line in ("第2行", "第3行", "第5行"):
        assert line in errors, (line, errors)
    assert not CalendarYear.objects.exists()
    assert not AuditEntry.objects.filter(action="calendar_load").exists()


def test_a_good_notice_is_loaded_recomputed_and_audited(jianan, register):
    client = signed_in(jianan.member("sysadmin"))
    response = client.post(reverse("web:rules_calendar"), {"file": upload(GOOD_2027)}, follow=True)
    html = response.content.decode()
    assert "已载入2027年节假日安排" in html and "重算时限" in html
    row = CalendarYear.objects.get(year=2027)
    assert row.source == "2027.txt" and row.loaded_by == jianan.member("sysadmin").user
    table = html.split('id="calendar-table"', 1)[1].split("</table>", 1)[0]
    assert "2027" in table and "2027.txt" in table
    entry = AuditEntry.objects.get(action="calendar_load")
    assert entry.detail["year"] == 2027 and "recomputed_clocks" in entry.detail
    # the same year again is refused in words unless replaced
    again = client.post(reverse("web:rules_calendar"), {"file": upload(GOOD_2027)})
    assert again.status_code == 400 and "已于" in again.content.decode()
    replaced = client.post(
        reverse("web:rules_calendar"), {"file": upload(GOOD_2027), "replace": "on"}
    )
    assert replaced.status_code == 302


def test_a_shipped_year_or_a_file_that_is_not_text_is_refused(jianan):
    client = signed_in(jianan.member("sysadmin"))
    shipped = client.post(
        reverse("web:rules_calendar"), {"file": upload("year 2025\nholiday 2025-01-01 元旦\n")}
    )
    assert shipped.status_code == 400 and "内置" in shipped.content.decode()
    binary = SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0\xff\xfe", content_type="x")
    response = client.post(reverse("web:rules_calendar"), {"file": binary})
    assert response.status_code == 400 and "UTF-8" in response.content.decode()


@pytest.mark.parametrize("member", ["clerk", "approver", "inspector"])
def test_the_office_reads_the_calendar_but_does_not_load_it(member, jianan):
    client = signed_in(jianan.member(member))
    page = client.get(reverse("web:rules_calendar")).content.decode()
    assert 'id="calendar-form"' not in page and "2026" in page
    response = client.post(reverse("web:rules_calendar"), {"file": upload(GOOD_2027)})
    assert response.status_code == 403 and not CalendarYear.objects.exists()


def test_the_upload_form_shows_progress_while_it_loads(jianan):
    html = signed_in(jianan.member("sysadmin")).get(reverse("web:rules_calendar")).content.decode()
    form = (
        html.split('id="calendar-form"', 1)[0].rsplit("<form", 1)[1]
        + html.split('id="calendar-form"', 1)[1].split("</form>", 1)[0]
    )
    assert "data-busy" in form and 'class="busy"' in form and "正在载入并重算时限" in form
