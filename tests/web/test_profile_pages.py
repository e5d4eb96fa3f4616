"""The system administrator's profile versions page: a file with a mistake is refused with its line
and key, a good one is installed and used by new cases, open cases move only when the migration
(listing the clocks that move) is confirmed; the pages speak of profiles by their Chinese names."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import register_in
from tests.rules.test_profile_versions import (  # noqa: F401 (shipped_copy: a fixture)
    NEXT,
    V,
    another,
    line_of,
    raised_jianan,
    shipped_copy,
)
from xinfang.audit.models import AuditEntry
from xinfang.rules.models import ProfileVersion
from xinfang.rules.store import current_version
from xinfang.rules.versions import PROFILE_MIGRATED, profile_install

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def upload(text: str, name: str = "jianan-v3.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="application/yaml")


def test_a_file_with_a_mistake_shows_its_line_and_key_and_installs_nothing(jianan):
    current_version("jianan")
    text = raised_jianan().replace("    unit: days\n", "    unit: dayz\n", 1)
    client = signed_in(jianan.member("sysadmin"))

    response = client.post(reverse("web:rules_versions"), {"file": upload(text)})

    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="profile-errors"', 1)[1].split("</div>", 1)[0]
    assert f"第 {line_of(text, 'unit: dayz')} 行" in errors
    assert "<code>clocks[0].unit</code>" in errors
    assert "&#x27;dayz&#x27; 不是可用的取值之一" in errors
    assert "有 1 处错误，未安装" in html
    assert not ProfileVersion.objects.filter(version=NEXT).exists()


def test_a_good_file_is_installed_used_by_new_cases_and_open_cases_migrate_on_confirmation(
    jianan,
):
    old = register_in(jianan)
    client = signed_in(jianan.member("sysadmin"))

    response = client.post(reverse("web:rules_versions"), {"file": upload(raised_jianan())})

    assert response.status_code == 302
    assert response.url == reverse("web:rules_version", args=["jianan", NEXT])
    assert current_version("jianan").version == NEXT
    page = client.get(response.url).content.decode()
    assert "已安装“许昌市建安区涉贫信访舆情专项整治工作方案”" in page
    assert "1 件在办信访件仍按旧版本办理" in page
    changes = page.split('id="changes"', 1)[1].split("</section>", 1)[0]
    assert "初信初访1天内与信访对象建立联系" in changes and "修改" in changes
    assert "版本号" in changes  # a section without a label of its own, in words

    # the migration page lists the clock that would move, and moves nothing yet
    plan = client.get(reverse("web:rules_migrate", args=["jianan", NEXT])).content.decode()
    table = plan.split('id="migration-plan"', 1)[1].split("</table>", 1)[0]
    assert old.number in table and f"第 {V} 版" in table
    assert "2026-09-16 00:00" in table and "2026-09-17 00:00" in table
    old.refresh_from_db()
    assert old.profile.version == V

    response = client.post(reverse("web:rules_migrate", args=["jianan", NEXT]))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.profile.version == NEXT
    assert old.events.filter(type=PROFILE_MIGRATED).count() == 1
    assert AuditEntry.objects.filter(detail__change="profile_migrate").count() == 1
    case_page = signed_in(jianan.member("clerk")).get(reverse("web:case", args=[old.pk]))
    assert "改按新版本规则配置办理" in case_page.content.decode()


def test_a_dry_run_checks_only(jianan):
    current_version("jianan")
    client = signed_in(jianan.member("sysadmin"))
    response = client.post(
        reverse("web:rules_versions"), {"file": upload(raised_jianan()), "dry_run": "on"}
    )
    assert response.status_code == 200
    assert f"第 {NEXT} 版可以安装（尚未安装）" in response.content.decode()
    assert not ProfileVersion.objects.filter(version=NEXT).exists()


def test_only_the_system_administrator_installs_or_migrates(jianan):
    current_version("jianan")
    for role in ("clerk", "approver", "secadmin", "auditor"):
        client = signed_in(jianan.member(role))
        assert client.post(reverse("web:rules_versions"),
                           {"file": upload(raised_jianan())}).status_code == 403  # fmt: skip
        assert client.post(reverse("web:rules_migrate", args=["jianan", V])).status_code == 403
    assert not ProfileVersion.objects.filter(version=NEXT).exists()


def test_profile_pages_show_chinese_names_not_codes(jianan):
    current_version("national")
    html = signed_in(jianan.member("clerk")).get(reverse("web:rules_profiles")).content.decode()
    section = html.split('id="profile-jianan"', 1)[1].split("</section>", 1)[0]
    assert "继承自" in section and "全国默认（《信访工作条例》2022）" in section
    assert "继承 national" not in section and "national " not in section
    assert "《信访工作条例》登记转送" in section

    admin = signed_in(jianan.member("sysadmin"))
    listing = admin.get(reverse("web:rules_versions")).content.decode()
    assert "许昌市建安区涉贫信访舆情专项整治工作方案" in listing and "建安区" in listing
    unit_form = admin.get(reverse("web:admin_unit", args=[jianan.county.pk])).content.decode()
    assert ">许昌市建安区涉贫信访舆情专项整治工作方案</option>" in unit_form


def test_a_raised_shipped_file_is_shown_and_installed_from_the_page(jianan, shipped_copy):  # noqa: F811
    current_version("national")
    current_version("jianan")
    (shipped_copy / "jianan.yaml").write_text(raised_jianan(), encoding="utf-8")
    client = signed_in(jianan.member("sysadmin"))

    html = client.get(reverse("web:rules_versions")).content.decode()
    shipped = html.split('id="shipped-pending"', 1)[1].split("</section>", 1)[0]
    assert (
        f"许昌市建安区涉贫信访舆情专项整治工作方案：系统提供第 {NEXT} 版，已安装的是第 {V} 版"
        in shipped
    )
    assert "national" not in shipped

    response = client.post(reverse("web:rules_versions_sync"))
    assert response.status_code == 302
    assert current_version("jianan").version == NEXT
    assert 'id="shipped-pending"' not in client.get(reverse("web:rules_versions")).content.decode()


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        assert client.get(url).status_code == 200
    return len(q)


def test_the_versions_and_migration_pages_read_a_flat_number_of_queries(
    jianan, django_assert_max_num_queries
):
    client = signed_in(jianan.member("sysadmin"))
    register_in(jianan)
    profile_install(text=raised_jianan(), source="v.yaml")
    client.get(reverse("web:rules_versions"))  # the session's first request reads more
    few_versions = _queries(client, reverse("web:rules_versions"))
    few_cases = _queries(client, reverse("web:rules_migrate", args=["jianan", NEXT]))

    for n in range(1, 6):
        profile_install(text=raised_jianan(version=NEXT + n), source=f"v{n}.yaml")
    for i in range(4):
        register_in(jianan, matter=f"第{i}件", petitioners=another(i))
    last = NEXT + 5
    assert _queries(client, reverse("web:rules_versions")) == few_versions
    with django_assert_max_num_queries(few_cases):
        client.get(reverse("web:rules_migrate", args=["jianan", last]))


def test_a_file_nested_thousands_deep_is_refused_on_the_page_not_a_server_error(jianan):
    client = signed_in(jianan.member("sysadmin"))
    text = "extends: national\na: " + "[" * 3000 + "]" * 3000 + "\n"
    response = client.post(reverse("web:rules_versions"), {"file": upload(text)})
    assert response.status_code == 400
    assert "嵌套超过64层" in response.content.decode()
