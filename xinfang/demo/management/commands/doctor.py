from django.core.management.base import BaseCommand
from django.db import DatabaseError

from xinfang.demo.extras import extras


class Command(BaseCommand):
    help = "检查可选组件 (LibreOffice, 中文字体, Chromium) 是否可用，并说明缺少时的影响。"

    def handle(self, *args, **options):
        for extra in extras():
            if extra.found:
                self.stdout.write(f"  ✓ {extra.name}: {extra.found}")
            else:
                self.stdout.write(
                    f"  – {extra.name} 未安装：{extra.needed_for} 不可用；其余功能正常。"
                    f" 安装：{extra.install}"
                )
        # What the database holds: each said not checked where there is no database yet.
        for what, check in (("规则配置", self.profiles), ("节假日安排", self.calendar),
                            ("单位", self.units), ("任职", self.unattended)):
            try:
                check()
            except DatabaseError:
                self.stdout.write(f"  – {what}：数据库尚未建立，未检查（先运行 xinfang migrate）。")

    def profiles(self) -> None:
        """Shipped profile files newer than the installed version (or changed without a new
        version number) are reported: new cases would still run under the old rules."""
        from xinfang.rules.versions import shipped_states, stale_parents

        states = shipped_states()
        stale = stale_parents()
        problems = 0
        for state in states:
            if state.state == "newer":
                message = (f"内置文件为第{state.file_version}版，已安装的是第"
                           f"{state.stored_version}版")  # fmt: skip
            elif state.state == "changed":
                message = f"内置文件与已安装的第{state.stored_version}版内容不同，但版本号未提高"
            elif state.state == "broken":
                message = f"内置文件有错误：{state.problem}"
            else:
                continue  # installed, an administrator's higher version, or first use installs it
            problems += 1
            self.stdout.write(f"  ! 规则配置 {state.code}：{message}。运行 xinfang profile sync。")
        for s in stale:
            problems += 1
            self.stdout.write(
                f"  ! 规则配置 {s.code} 第{s.version}版所继承的 {s.parent} 不是现行的第"
                f"{s.parent_version}版：新案件仍按旧的 {s.parent} 规则办理，如需适用请提高 "
                f"{s.code} 的版本号后安装。"
            )
        if not problems:
            self.stdout.write("  ✓ 规则配置：内置配置文件均已安装。")

    def calendar(self) -> None:
        """A year whose holiday notice is not loaded while deadlines fall due in it: each of
        those was counted on weekends alone (provisional) until the notice is loaded."""
        from xinfang.rules.services import calendar_ahead

        ahead = calendar_ahead()
        if ahead is None:
            self.stdout.write("  ✓ 节假日安排：未完成的时限均已按载入的节假日安排计算。")
            return
        self.stdout.write(
            f"  ! 节假日安排：{ahead.year}年尚未载入，{ahead.clocks}个未完成的时限截止于"
            f"{ahead.year}年或以后，暂按周末推定（暂定）。通知发布后运行 "
            f"xinfang calendar load <通知文件>，或在“节假日安排”页面载入。"
        )

    def units(self) -> None:
        """A unit switched off while open work still waits on it (switched off before the
        units page asked, or by hand): its cases' clocks alert a unit nobody works in."""
        from xinfang.web.admin_services import unit_open_work, units_off_holding_work

        held = units_off_holding_work()
        if not held:
            self.stdout.write("  ✓ 单位：已停用的单位均无未办结的工作。")
            return
        self.stdout.write(f"  ! 单位：{len(held)}个已停用的单位仍有未办结的工作，"
                          "请在“单位”页面重新启用，办结后再停用：")
        for unit in held:
            self.stdout.write(f"    {unit.name}：{'；'.join(unit_open_work(unit))}。")

    def unattended(self) -> None:
        """An active unit with open work and nobody in it (its last role withdrawn): its cases
        stall unseen and their alerts reach nobody."""
        from xinfang.web.admin_services import unit_open_work, units_unattended

        left = units_unattended()
        if not left:
            self.stdout.write("  ✓ 任职：有未办结工作的单位均有有效任职人员。")
            return
        self.stdout.write(f"  ! 任职：{len(left)}个单位有未办结的工作但已无有效任职人员，"
                          "请安全管理员为其授予角色：")
        for unit in left:
            what = "；".join(unit_open_work(unit, to_finish=False))
            self.stdout.write(f"    {unit.name}：{what}。")
