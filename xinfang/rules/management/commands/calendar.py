"""``xinfang calendar``: the State Council's yearly holiday notices the working calendar uses.

    xinfang calendar load notice-2027.txt [--replace] [--by USERNAME]
    xinfang calendar list
    xinfang calendar show 2027

The notice file format is in ``xinfang/rules/calendar.py``. Loading a year recomputes every
provisional deadline it settles and notes the change in each affected case's history.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinfang.rules.calendar import NoticeError
from xinfang.rules.services import CalendarRefused, calendar_load, calendar_years
from xinfang.rules.store import working_calendar

_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class Command(BaseCommand):
    help = "载入、列出、查看国务院节假日安排（工作日日历）。"

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("load", help="从通知文件（UTF-8）载入一个年度")
        load.add_argument("file", help="通知文件路径")
        load.add_argument("--replace", action="store_true", help="替换已载入或系统内置的同一年度")
        load.add_argument("--by", metavar="USERNAME", help="载入人的用户名（记入载入记录）")
        actions.add_parser("list", help="列出系统内置和已载入的年度")
        show = actions.add_parser("show", help="逐日列出一个年度的放假日和调休上班日")
        show.add_argument("year", type=int)

    def handle(self, *args, action: str, **options) -> None:
        if action == "load":
            self.load(Path(options["file"]), replace=options["replace"], username=options["by"])
        elif action == "list":
            self.list_years()
        else:
            self.show(options["year"])

    def load(self, path: Path, *, replace: bool, username: str | None) -> None:
        by = None
        if username:
            by = get_user_model().objects.filter(username=username).first()
            if by is None:
                raise CommandError(f"--by：没有用户 {username}")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise CommandError(f"找不到通知文件 {path}") from e
        except UnicodeDecodeError as e:
            raise CommandError(f"{path} 不是 UTF-8 编码的文本文件，请另存为 UTF-8 后重试") from e
        except OSError as e:
            raise CommandError(f"无法读取 {path}：{e.strerror}") from e
        before = {info.year: info.source for info in calendar_years()}
        try:
            row = calendar_load(text=text, source=path.name, by=by, replace=replace)
        except NoticeError as e:
            lines = "\n".join(f"  {error.message}" for error in e.errors)
            raise CommandError(f"{path} 有 {len(e.errors)} 处错误，未载入：\n{lines}") from e
        except CalendarRefused as e:
            raise CommandError(str(e)) from e

        notice = working_calendar().notice(row.year)
        assert notice is not None
        replaced = f"，替换原来源 {before[row.year]}" if row.year in before else ""
        self.stdout.write(
            f"已载入{row.year}年节假日安排（来源 {row.source}{replaced}）："
            f"放假 {len(notice.holidays)} 天，调休上班 {len(notice.makeup_workdays)} 天；"
            f"重算时限 {row.recomputed_clocks} 个。"
        )

    def list_years(self) -> None:
        for info in calendar_years():
            if info.loaded is not None:
                when = timezone.localtime(info.loaded.loaded_at).strftime("%Y-%m-%d %H:%M")
                who = f" {info.loaded.loaded_by}" if info.loaded.loaded_by else ""
                where = f"载入 {when}{who}" + ("（替换内置）" if info.shipped else "")
            else:
                where = "内置"
            self.stdout.write(
                f"{info.year}  放假 {info.holidays:>2} 天  调休上班 {info.makeup_workdays} 天  "
                f"{where}  来源 {info.source}"
            )

    def show(self, year: int) -> None:
        notice = working_calendar().notice(year)
        if notice is None:
            raise CommandError(
                f"未载入{year}年节假日安排：该年日期按周一至周五为工作日推定，期限均为暂定。"
            )
        self.stdout.write(f"{year}年节假日安排（来源 {notice.source}）")
        days = [(d, "放假", name) for d, name in notice.holidays.items()]
        days += [(d, "调休上班", name) for d, name in notice.makeup_workdays.items()]
        for day, kind, name in sorted(days):
            self.stdout.write(f"{day.isoformat()} {_WEEKDAYS[day.weekday()]}  {kind}  {name}")
