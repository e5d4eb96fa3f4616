"""``xinfang export_ledger {l0,l1,l2,l3} --as USERNAME OUT.xlsx [filters]`` — a ledger from the
command line, as that user would get it from the API: the same permission door, filters, masking
and audit entry. The choices are ``xinfang.ledgers.exports.LEDGERS``; a ledger added there (and
to ``sources.SOURCES``) is offered here.

Filters: L0 takes the ledger page's (--state, --kind, --channel, --township, --overdue,
--search, --category, --received-from/--received-to); L1 --month YYYY-MM, --township, --category,
--from/--to; L2 --township, --category, --resolved true|false, --from/--to; L3 none. A value
that can mean nothing (an unknown state, a date no calendar holds) is an error naming its option.
Large exports print their progress on stderr.

Masked by default; ``--unmasked --reason "…"`` asks for names, addresses and phones in clear
where that membership may reveal them, and the reason goes into the audit entry. The workbook is
built in an anonymous temporary file and copied to OUT through ``file_write_atomically``, so a
failed export leaves no partial file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.api.membership import membership_of, parse_id
from xinfang.cases import choices as c
from xinfang.cases.errors import Refused
from xinfang.ledgers.exports import LEDGER_TITLES, LEDGERS
from xinfang.ledgers.filters import parse_day, parse_month
from xinfang.ledgers.sources import filters_of, ledger_rows
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import User
from xinfang.reports.files import file_write_atomically, out_refusal
from xinfang.reports.l4 import write_ledger_l4

LIST_OPTIONS = ("state", "kind", "channel", "township", "category")
ONE_OPTIONS = {"overdue": "overdue", "search": "search", "received_from": "received_from",
               "received_to": "received_to", "month": "month", "date_from": "from",
               "date_to": "to", "resolved": "resolved"}
CHOICES = {"state": c.State.values, "kind": c.Kind.values, "channel": c.Channel.values}
DAYS = ("received_from", "received_to", "date_from", "date_to")
PROGRESS_FROM = 10_000  # rows: below this an export is quick and says nothing until done


def _l4(out, cases, *, progress=None, **kw):
    """L4, the provincial weekly table (xinfang.reports): the L0 rows' cases, provincial only."""
    return write_ledger_l4(out, cases, **kw)


WRITERS = {**LEDGERS, "l4": _l4}
TITLES = {**LEDGER_TITLES, "l4": "L4 省级交办件周报表"}
ROWS_OF = {"l4": "l0"}  # L4 reads the cases the L0 filters select


class Command(BaseCommand):
    help = ("导出台账（L0 信访事项台账、L1 排查台账、L2 积案台账、L3 干部队伍统计表），"
            "按指定用户的权限范围取数、脱敏并记入审计。")

    def add_arguments(self, parser):
        parser.add_argument("ledger", choices=list(WRITERS), help="台账：" + "，".join(
            f"{code} {title}" for code, title in TITLES.items()))
        parser.add_argument("out", help="输出的 .xlsx 文件")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份导出")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")
        for name in LIST_OPTIONS:
            parser.add_argument(f"--{name}", action="append", default=[])
        parser.add_argument("--overdue", choices=["true", "false"])
        parser.add_argument("--search")
        parser.add_argument("--received-from", help="L0：信访时间起 YYYY-MM-DD")
        parser.add_argument("--received-to", help="L0：信访时间止 YYYY-MM-DD")
        parser.add_argument("--month", help="L1：排查月份 YYYY-MM")
        parser.add_argument("--from", dest="date_from",
                            help="L1 排查时间 / L2 初访时间起 YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="L1 排查时间 / L2 初访时间止 YYYY-MM-DD")
        parser.add_argument("--resolved", choices=["true", "false"], help="L2：已化解 / 未化解")
        parser.add_argument("--unmasked", action="store_true",
                            help="不脱敏导出（须同时以 --reason 说明理由，记入审计）")
        parser.add_argument("--reason", default="", help="不脱敏导出的理由")

    def handle(self, *args, **options):
        out = Path(options["out"])
        if why := out_refusal(out):
            raise CommandError(f"out：{why}")
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有有效用户“{options['username']}”。")
        membership = membership_of(user, options["membership"])
        if membership is None:
            which = "该" if options["membership"] else ""
            raise CommandError(f"{user.username}没有{which}有效任职。")
        if membership.role in ADMIN_ROLES:
            raise CommandError("系统管理员、安全管理员和审计管理员不能导出信访件（三员分立）。")
        params = {name: options[name] for name in LIST_OPTIONS}
        params.update({key: options[option] for option, key in ONE_OPTIONS.items()
                       if options[option] is not None})
        _check_filters(options)
        if options["reason"] and not options["unmasked"]:
            raise CommandError("--reason 只用于 --unmasked（不脱敏导出）。")
        code = options["ledger"]
        qs = ledger_rows(ROWS_OF.get(code, code), membership, params)
        with tempfile.TemporaryFile() as built:
            try:
                done = WRITERS[code](
                    built, qs, by=membership,
                    filters=filters_of(ROWS_OF.get(code, code), params), via="cli",
                    unmasked=options["unmasked"], reason=options["reason"],
                    progress=self.progress)
            except Refused as e:
                raise CommandError(f"--{e.field or 'unmasked'}：{e.message}") from e
            built.seek(0)
            file_write_atomically(built, out, prefix=".export-")
        masked = "未脱敏" if options["unmasked"] else "已脱敏"
        what = "件" if code in ("l0", "l4") else "行"
        self.stdout.write(f"已导出{TITLES[code]} {done.rows} {what}"
                          f"（{masked}，{membership}）到 {out}")

    def progress(self, done: int, total: int) -> None:
        if total >= PROGRESS_FROM:
            self.stderr.write(f"已写入 {done}/{total} 行")


def _option(dest: str) -> str:
    return "--" + {"date_from": "from", "date_to": "to"}.get(dest, dest).replace("_", "-")


def _check_filters(options: dict) -> None:
    """A filter value that can mean nothing is refused, naming its option. On the ledger page it
    is an empty list (``ledgers.filters``); here it is a typo in a script, which would export
    an empty ledger, audit it and exit 0."""
    for name, values in CHOICES.items():
        for value in options[name]:
            if value not in values:
                raise CommandError(f"{_option(name)}：没有“{value}”，可选：{'、'.join(values)}")
    for value in options["township"]:
        if parse_id(value) is None:
            raise CommandError(f"--township：须为乡镇的编号（id），不是“{value}”。")
    for name in DAYS:
        if (value := options[name]) is not None and parse_day(value.strip()) is None:
            raise CommandError(f"{_option(name)}：无法识别的日期“{value}”，应写作 YYYY-MM-DD。")
    if (value := options["month"]) is not None and parse_month(value.strip()) is None:
        raise CommandError(f"--month：无法识别的月份“{value}”，应写作 YYYY-MM。")
