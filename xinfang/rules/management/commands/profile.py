"""``xinfang profile``: rule profile versions.

    xinfang profile install FILE [--dry-run] [--by USERNAME]
    xinfang profile list
    xinfang profile show CODE[@VERSION] [--yaml]
    xinfang profile diff A B            (A, B: CODE, CODE@VERSION or a file)
    xinfang profile sync                (install shipped files whose version is higher)
    xinfang profile migrate CODE[@VERSION] [--yes] [--by USERNAME]

A raised version is used by new cases at once; open cases keep their version until ``migrate``
moves them (without ``--yes`` it only lists the clocks that would move).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinfang.rules.deadlines import SHANGHAI
from xinfang.rules.diff import limit_text, profile_diff
from xinfang.rules.profile import Profile, ProfileError
from xinfang.rules.store import profile_of
from xinfang.rules.versions import (
    migration_plan,
    profile_candidate,
    profile_install,
    profile_migrate,
    profile_sync,
    profile_versions,
    shipped_states,
    version_by_ref,
)
from xinfang.rules.words import issue_words

SYNC_WORDS = {"installed": "已安装", "up_to_date": "无需更新", "refused": "未安装"}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise CommandError(f"找不到配置文件 {path}") from e
    except UnicodeDecodeError as e:
        raise CommandError(f"{path} 不是 UTF-8 编码的文本文件，请另存为 UTF-8 后重试") from e
    except OSError as e:
        raise CommandError(f"无法读取 {path}：{e.strerror}") from e


def _errors(path: str, e: ProfileError) -> CommandError:
    lines = "\n".join(f"  {error.file}{f':{error.line}' if error.line else ''}: "
                      f"{error.key + ': ' if error.key else ''}{issue_words(error.message)}"
                      for error in e.errors)
    return CommandError(f"{path} 有 {len(e.errors)} 处错误，未安装：\n{lines}")


class Command(BaseCommand):
    help = "安装、列出、查看、比较规则配置版本，并将在办信访件迁移到新版本。"

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        install = actions.add_parser("install", help="检查并安装一个配置文件（YAML，UTF-8）")
        install.add_argument("file")
        install.add_argument("--dry-run", action="store_true", help="只检查，不安装")
        install.add_argument("--by", metavar="USERNAME", help="安装人的用户名（记入审计）")
        actions.add_parser("list", help="列出已安装的各版本")
        show = actions.add_parser("show", help="查看一个版本：CODE 或 CODE@VERSION")
        show.add_argument("ref")
        show.add_argument("--yaml", action="store_true", help="输出该版本的配置原文")
        diff = actions.add_parser("diff", help="比较两个版本或文件")
        diff.add_argument("a")
        diff.add_argument("b")
        actions.add_parser("sync", help="安装版本号高于已安装版本的内置配置文件")
        migrate = actions.add_parser("migrate", help="将在办信访件迁移到新版本")
        migrate.add_argument("ref", help="CODE（最新版本）或 CODE@VERSION")
        migrate.add_argument("--yes", action="store_true", help="确认迁移（不加只列出变动）")
        migrate.add_argument("--by", metavar="USERNAME")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"do_{action}")(**options)

    def _user(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--by：没有用户 {username}")
        return user

    def _sync(self) -> None:
        for result in profile_sync():
            if result.state == "installed":
                self.stdout.write(f"已安装内置配置 {result.code} 第{result.version}版")
            elif result.state == "refused":
                self.stderr.write(f"内置配置 {result.code} 未安装：{result.message}")

    # -- actions ---------------------------------------------------------------------------------

    def do_install(self, *, file: str, dry_run: bool, by: str | None, **_) -> None:
        path = Path(file)
        text = _read(path)
        user = self._user(by)
        if not dry_run:
            self._sync()  # the parents a county file extends are the newest shipped ones
        try:
            result = profile_install(
                text=text, source=path.name, by=user, search_path=[path.parent], dry_run=dry_run,
                actor_name=f"xinfang profile install {path.name}",
            )  # fmt: skip
        except ProfileError as e:
            raise _errors(file, e) from e
        profile = result.candidate.profile
        what = f"{profile.name}（{profile.code} 第{profile.version}版）"
        if result.dry_run:
            if result.row is not None:
                self.stdout.write(f"检查通过：{what} 已安装，内容相同，无需安装。")
            else:
                before = f"，现行第{result.previous.version}版" if result.previous else ""
                self.stdout.write(f"检查通过：{what} 可以安装{before}（未安装）。")
            return
        if not result.created:
            self.stdout.write(f"{what} 已安装，内容相同，未作改动。")
            return
        self.stdout.write(f"已安装 {what}，新登记的信访件即按此版本办理。")
        waiting = result.open_cases_on_older
        if waiting:
            self.stdout.write(
                f"另有 {waiting} 件在办信访件仍按旧版本办理；如需迁移：xinfang profile migrate "
                f"{profile.code}@{profile.version}"
            )

    def do_list(self, **_) -> None:
        newest: set[str] = set()
        for row in profile_versions():
            current = row.code not in newest
            newest.add(row.code)
            when = timezone.localtime(row.loaded_at).strftime("%Y-%m-%d %H:%M")
            who = f" {row.loaded_by}" if row.loaded_by else ""
            self.stdout.write(
                f"{row.code}@{row.version}  {row.name}  {'现行' if current else '旧版'}  "
                f"在办 {row.open_cases} 件 / 共 {row.all_cases} 件  安装 {when}{who}  "
                f"来源 {row.source}"
            )
        for state in shipped_states():
            if state.pending:
                stored = f"已安装第{state.stored_version}版" if state.stored_version else "未安装"
                self.stdout.write(
                    f"内置 {state.code} 第{state.file_version}版尚未安装（{stored}）："
                    "运行 xinfang profile sync"
                )
            elif state.state in ("changed", "broken"):
                self.stdout.write(f"内置 {state.code}：{_shipped_problem(state)}")

    def do_show(self, *, ref: str, yaml: bool, **_) -> None:
        row = version_by_ref(ref)
        if row is None:
            raise CommandError(f"没有已安装的配置版本 {ref}（xinfang profile list 列出全部）")
        if yaml:
            self.stdout.write(row.text.rstrip("\n"))
            return
        profile = profile_of(row)
        counts = profile_versions(row.code).filter(pk=row.pk).first()
        when = timezone.localtime(row.loaded_at).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(f"{profile.name}（{profile.code} 第{profile.version}版）")
        if profile.extends:
            parent = version_by_ref(profile.extends)
            self.stdout.write(f"继承自：{parent.name if parent else profile.extends}")
        self.stdout.write(f"安装：{when}{' ' + str(row.loaded_by) if row.loaded_by else ''}"
                          f"  来源 {row.source}")  # fmt: skip
        self.stdout.write(f"信访件：在办 {counts.open_cases} 件，共 {counts.all_cases} 件")
        self.stdout.write(f"问题类别：{'、'.join(profile.categories)}")
        self.stdout.write("时限：")
        for rule in profile.all_clocks:
            self.stdout.write(
                f"  {rule.name}  {rule.label}  {limit_text(rule.amount, rule.unit)}  "
                f"起算 {'/'.join(rule.start)}  停止 {'/'.join(rule.stop)}"
            )
        ext = profile.extension
        self.stdout.write(f"延期：至多 {ext.max_count} 次，每次 {limit_text(ext.amount, ext.unit)}")

    def _profile(self, ref: str) -> tuple[str, Profile]:
        path = Path(ref)
        if path.suffix in (".yaml", ".yml") or path.is_file():
            try:
                candidate = profile_candidate(
                    text=_read(path), source=path.name, search_path=[path.parent]
                )
            except ProfileError as e:
                raise _errors(ref, e) from e
            return ref, candidate.profile
        row = version_by_ref(ref)
        if row is None:
            raise CommandError(f"没有已安装的配置版本 {ref}，也没有这个文件")
        return f"{row.code}@{row.version}", profile_of(row)

    def do_diff(self, *, a: str, b: str, **_) -> None:
        name_a, left = self._profile(a)
        name_b, right = self._profile(b)
        changes = profile_diff(left, right)
        self.stdout.write(f"--- {name_a}\n+++ {name_b}")
        if not changes:
            self.stdout.write("两者规则相同。")
        for change in changes:
            self.stdout.write(str(change))

    def do_sync(self, **_) -> None:
        results = profile_sync()
        for result in results:
            word = SYNC_WORDS[result.state]
            version = f" 第{result.version}版" if result.version else ""
            note = f"：{result.message}" if result.message else ""
            out = self.stderr if result.state == "refused" else self.stdout
            out.write(f"{result.code}{version} {word}{note}")
        if any(result.state == "refused" for result in results):
            raise CommandError("有内置配置文件未能安装，见上。")

    def do_migrate(self, *, ref: str, yes: bool, by: str | None, **_) -> None:
        target = version_by_ref(ref)
        if target is None:
            raise CommandError(f"没有已安装的配置版本 {ref}")
        user = self._user(by)
        plan = (
            profile_migrate(target=target, by=user, actor_name="xinfang profile migrate")
            if yes else migration_plan(target=target)
        )  # fmt: skip
        verb = "已迁移" if yes else "将迁移"
        self.stdout.write(
            f"{verb} {len(plan.cases)} 件在办信访件到 {target.code} 第{target.version}版，"
            f"时限变动 {plan.clocks_moved} 个。"
        )
        for case_move in plan.cases:
            self.stdout.write(f"{case_move.case.number}（第{case_move.from_version}版）")
            for move in case_move.moves:
                if move.started:
                    start = move.started_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                    due = move.new_due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                    self.stdout.write(
                        f"  {move.label}：新版本新增，自 {start} 起算"
                        f"（{limit_text(*move.new_limit)}），截止 {due}"
                    )
                    continue
                old = move.old_due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                if move.new_due is None:
                    self.stdout.write(f"  {move.label}：新版本无此时限，保留原期限 {old}")
                    continue
                new = move.new_due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(
                    f"  {move.label}：{limit_text(*move.old_limit)} → "
                    f"{limit_text(*move.new_limit)}，截止 {old} → {new}"
                )
        if not yes and plan.cases:
            self.stdout.write(f"确认迁移请运行：xinfang profile migrate {ref} --yes")


def _shipped_problem(state) -> str:
    if state.state == "changed":
        return (f"内置文件与已安装的第{state.stored_version}版内容不同，但版本号未提高："
                "请提高版本号后运行 xinfang profile sync")  # fmt: skip
    return f"内置文件有错误：{state.problem}"
