"""The system administrator installs a profile file in a real browser: first a file with a mistake
(the line and key are shown, nothing installed), then the corrected file, then moves the open case
to the new version after seeing the clock that moves. Screenshots in test-artifacts/screenshots/."""

import pytest

from tests.conftest import register_in
from tests.rules.test_profile_versions import NEXT, V, line_of, raised_jianan
from xinfang.rules.store import current_version

from .test_browser import Visit, chromium  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def yaml_file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "application/yaml", "buffer": text.encode("utf-8")}


def test_the_administrator_installs_a_profile_after_fixing_the_mistake_shown(
    chromium,  # noqa: F811
    live_server,
    jianan,
):
    case = register_in(jianan)
    assert current_version("jianan").version == V
    bad = raised_jianan().replace("    alert: [clerk, unit_handler]\n",
                                  "    alert: [clerk, unit_handlr]\n", 1)  # fmt: skip
    v = Visit(chromium, live_server.url)
    v.shot_number = 80
    page = v.page

    v.sign_in("sysadmin")
    v.go("/rules/profiles/")
    assert "继承自" in page.inner_text("#profile-jianan")
    v.submit("#manage-versions")
    assert page.url.endswith("/rules/versions/")

    # a file with a mistake: the line and the key are shown, nothing is installed
    page.set_input_files("#id_file", files=[yaml_file("jianan-v3.yaml", bad)])
    v.submit("#profile-form button[type=submit]")
    errors = page.inner_text("#profile-errors")
    assert f"第 {line_of(bad, 'unit_handlr')} 行" in errors
    assert "clocks[0].alert[1]" in errors
    assert "未知的角色 'unit_handlr'（是否应为 'unit_handler'？）" in errors
    v.shot("profile-upload-mistake")
    assert current_version("jianan").version == V

    # the corrected file is installed and the page of the new version opens
    page.set_input_files("#id_file", files=[yaml_file("jianan-v3.yaml", raised_jianan())])
    v.submit("#profile-form button[type=submit]")
    assert page.url.endswith(f"/rules/versions/jianan/{NEXT}/")
    assert "新登记的信访件即按此版本办理" in page.inner_text(".messages")
    assert "初信初访1天内与信访对象建立联系" in page.inner_text("#changes")
    v.shot("profile-installed")
    assert current_version("jianan").version == NEXT

    # the open case moves only once the administrator has seen the clock that moves
    v.submit("#migrate-hint a")
    plan = page.inner_text("#migration-plan")
    assert case.number in plan and "2026-09-17 00:00" in plan
    v.shot("profile-migrate-plan")
    v.submit("#migrate-confirm")
    assert "已将 1 件在办信访件迁移" in page.inner_text(".messages")
    case.refresh_from_db()
    assert case.profile.version == NEXT
    assert v.problems == []
