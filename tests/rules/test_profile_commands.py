"""``xinfang profile`` at the console: install (and --dry-run), list, show, diff, sync, migrate."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import register_in
from tests.rules.test_profile_versions import (  # noqa: F401 (shipped_copy: a fixture)
    COUNTY,
    NEXT,
    SHIPPED,
    V,
    raised_jianan,
    shipped_copy,
)
from xinfang.audit.models import AuditEntry
from xinfang.rules.models import ProfileVersion
from xinfang.rules.store import current_version

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("profile", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def v3_file(tmp_path):
    path = tmp_path / "jianan-v3.yaml"
    path.write_text(raised_jianan(), encoding="utf-8")
    return path


def test_install_dry_run_then_install_then_again(jianan, v3_file):
    current_version("jianan")

    out = run("install", str(v3_file), "--dry-run")
    assert "检查通过" in out and f"可以安装，现行第{V}版（未安装）" in out
    assert not ProfileVersion.objects.filter(version=NEXT).exists()

    out = run("install", str(v3_file), "--by", jianan.member("sysadmin").user.username)
    assert f"已安装 许昌市建安区涉贫信访舆情专项整治工作方案（jianan 第{NEXT}版）" in out
    entry = AuditEntry.objects.get(detail__change="profile_install", detail__version=NEXT)
    assert entry.actor_id == jianan.member("sysadmin").user_id

    assert "已安装，内容相同，未作改动" in run("install", str(v3_file))
    assert ProfileVersion.objects.filter(code="jianan", version=NEXT).count() == 1


def test_install_names_each_mistake_by_file_line_and_key(jianan, tmp_path):
    path = tmp_path / "bad.yaml"
    text = raised_jianan().replace("    alert: [clerk, unit_handler]\n",
                                   "    alert: [clrk, unit_handler]\n", 1)  # fmt: skip
    path.write_text(text, encoding="utf-8")
    line = text[: text.index("alert: [clrk")].count("\n") + 1

    with pytest.raises(CommandError) as refused:
        run("install", str(path))

    message = str(refused.value)
    assert "有 1 处错误，未安装" in message
    expected = "clocks[0].alert[0]: 未知的角色 'clrk'（是否应为 'clerk'？）"
    assert f"bad.yaml:{line}: {expected}" in message
    assert not ProfileVersion.objects.filter(version=NEXT).exists()


def test_install_tells_of_open_cases_left_on_the_older_version(jianan, v3_file):
    register_in(jianan)
    out = run("install", str(v3_file))
    assert "另有 1 件在办信访件仍按旧版本办理" in out
    assert f"xinfang profile migrate jianan@{NEXT}" in out


def test_list_shows_every_version_the_current_one_and_case_counts(jianan, v3_file):
    register_in(jianan)
    run("install", str(v3_file))

    lines = run("list").splitlines()

    [v3] = [line for line in lines if line.startswith(f"jianan@{NEXT} ")]
    [v2] = [line for line in lines if line.startswith(f"jianan@{V} ")]
    assert "现行" in v3 and "在办 0 件 / 共 0 件" in v3
    assert "旧版" in v2 and "在办 1 件 / 共 1 件" in v2


def test_show_prints_the_version_its_parent_by_name_and_its_clocks(jianan):
    current_version("national")
    current_version("jianan")

    out = run("show", f"jianan@{V}")

    assert out.startswith(f"许昌市建安区涉贫信访舆情专项整治工作方案（jianan 第{V}版）\n")
    assert "继承自：全国默认（《信访工作条例》2022）" in out
    assert "first_contact  初信初访1天内与信访对象建立联系  1日" in out
    assert run("show", "jianan", "--yaml").strip() == current_version("jianan").text.strip()
    with pytest.raises(CommandError, match="没有已安装的配置版本 jianan@9"):
        run("show", "jianan@9")


def test_diff_between_a_stored_version_and_a_file_names_what_changed(jianan, v3_file):
    current_version("jianan")

    out = run("diff", f"jianan@{V}", str(v3_file))

    assert out.splitlines()[:2] == [f"--- jianan@{V}", f"+++ {v3_file}"]
    assert f"~ version: {V} → {NEXT}" in out
    assert "~ clocks[first_contact].amount（初信初访1天内与信访对象建立联系）: 1 → 2" in out
    assert len(out.splitlines()) == 4
    assert "两者规则相同" in run("diff", "jianan", str(SHIPPED / "jianan.yaml"))


def test_diff_of_a_county_file_against_national(jianan, tmp_path):
    path = tmp_path / "xiangcheng.yaml"
    path.write_text(COUNTY, encoding="utf-8")
    current_version("national")

    out = run("diff", "national", str(path))

    assert "~ clocks[handling].amount（襄城县办结时限）: 60 → 30" in out
    assert "~ code: national → xiangcheng" in out


def test_migrate_lists_then_moves_with_yes(jianan, v3_file):
    case = register_in(jianan)
    run("install", str(v3_file))

    preview = run("migrate", f"jianan@{NEXT}")
    assert f"将迁移 1 件在办信访件到 jianan 第{NEXT}版，时限变动 1 个" in preview
    assert f"{case.number}（第{V}版）" in preview
    assert (
        "初信初访1天内与信访对象建立联系：1日 → 2日，截止 2026-09-16 00:00 → 2026-09-17 00:00"
        in (preview)
    )
    case.refresh_from_db()
    assert case.profile.version == V

    assert "已迁移 1 件" in run("migrate", f"jianan@{NEXT}", "--yes")
    case.refresh_from_db()
    assert case.profile.version == NEXT
    assert "已迁移 0 件" in run("migrate", "jianan", "--yes")


def test_sync_installs_each_shipped_file_once(jianan):
    out = run("sync")
    assert f"jianan 第{V}版 已安装" in out and re.search(r"national 第\d+版 已安装", out)
    assert "已安装" not in run("sync").replace("无需更新", "")


def test_doctor_warns_of_a_shipped_file_newer_than_the_installed_version(
    jianan,
    shipped_copy,  # noqa: F811
):
    current_version("national")
    current_version("jianan")
    out = StringIO()
    call_command("doctor", stdout=out)
    assert "✓ 规则配置：内置配置文件均已安装" in out.getvalue()

    (shipped_copy / "jianan.yaml").write_text(raised_jianan(), encoding="utf-8")
    out = StringIO()
    call_command("doctor", stdout=out)
    assert (
        f"! 规则配置 jianan：内置文件为第{NEXT}版，已安装的是第{V}版。运行 xinfang profile sync"
        in (out.getvalue())
    )


def test_doctor_warns_when_a_child_pins_an_older_parent(jianan, tmp_path):
    current_version("jianan")
    text = (SHIPPED / "national.yaml").read_text(encoding="utf-8")
    national = re.search(r"^version: (\d+)$", text, flags=re.M)
    raised = text.replace(national.group(0), f"version: {int(national.group(1)) + 1}", 1)
    path = tmp_path / "national.yaml"
    path.write_text(raised, encoding="utf-8")
    run("install", str(path))

    out = StringIO()
    call_command("doctor", stdout=out)
    assert f"! 规则配置 jianan 第{V}版所继承的 national 不是现行的第" in out.getvalue()
