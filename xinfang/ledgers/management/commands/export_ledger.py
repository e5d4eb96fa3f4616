"""``xinfang export_ledger l0 --as USERNAME OUT.xlsx`` — the L0 case ledger from the command line,
as that user would get it from the API: the same permission door, masking and audit entry.

Masked by default; ``--unmasked --reason "…"`` asks for names, addresses and phones in clear
where that membership may reveal them, and the reason goes into the audit entry. The workbook is
written next to OUT and renamed into place, so a failed export leaves no partial file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.api.filters import applied_filters
from xinfang.api.membership import membership_of
from xinfang.cases.errors import Refused
from xinfang.cases.selectors import cases_for
from xinfang.ledgers.exports import write_ledger_l0
from xinfang.ledgers.filters import filter_ledger
from xinfang.org.choices import ADMIN_ROLES
from xinfang.org.models import User
from xinfang.reports.l4 import write_ledger_l4

LEDGERS = {"l0": write_ledger_l0, "l4": write_ledger_l4}


class Command(BaseCommand):
    help = "导出台账（L0 信访事项台账），按指定用户的权限范围取数、脱敏并记入审计。"

    def add_arguments(self, parser):
        parser.add_argument("ledger", choices=sorted(LEDGERS), help="台账：l0")
        parser.add_argument("out", help="输出的 .xlsx 文件")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份导出")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")
        for name in ("state", "kind", "channel", "township"):
            parser.add_argument(f"--{name}", action="append", default=[])
        parser.add_argument("--overdue", choices=["true", "false"])
        parser.add_argument("--search")
        parser.add_argument("--unmasked", action="store_true",
                            help="不脱敏导出（须同时以 --reason 说明理由，记入审计）")
        parser.add_argument("--reason", default="", help="不脱敏导出的理由")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有有效用户“{options['username']}”。")
        membership = membership_of(user, options["membership"])
        if membership is None:
            which = "该" if options["membership"] else ""
            raise CommandError(f"{user.username}没有{which}有效任职。")
        if membership.role in ADMIN_ROLES:
            raise CommandError("系统管理员、安全管理员和审计管理员不能导出信访件（三员分立）。")
        params = {name: options[name] for name in ("state", "kind", "channel", "township")}
        params["overdue"] = options["overdue"]
        params["search"] = options["search"]
        if options["reason"] and not options["unmasked"]:
            raise CommandError("--reason 只用于 --unmasked（不脱敏导出）。")
        qs = filter_ledger(cases_for(membership), params, by=membership)
        out = Path(options["out"])
        fd, partial = tempfile.mkstemp(dir=out.parent or ".", prefix=".export-", suffix=".xlsx")
        os.close(fd)
        try:
            done = LEDGERS[options["ledger"]](
                partial, qs, by=membership, filters=applied_filters(params), via="cli",
                unmasked=options["unmasked"], reason=options["reason"])
            os.replace(partial, out)
        except Refused as e:
            raise CommandError(f"--{e.field or 'unmasked'}：{e.message}") from e
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        masked = "未脱敏" if options["unmasked"] else "已脱敏"
        self.stdout.write(f"已导出 {done.rows} 件（{masked}，{membership}）到 {out}")
