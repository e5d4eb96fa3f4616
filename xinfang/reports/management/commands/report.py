"""``xinfang report {monthly,weekly,quarterly,scorecard} --period … --out FILE --as USER`` — a
periodic report from the command line, as that user would get it from the reports page: the same
permission door, masking and audit entry. Periods: a month ``2026-11``, a week ``2026-W48``, a
quarter ``2026-Q4``, a year ``2026`` (the scorecard takes a quarter or a year). The file is
written next to FILE and renamed into place, so a failed report leaves no partial file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.api.membership import membership_of
from xinfang.cases.errors import Refused
from xinfang.org.models import User
from xinfang.reports.files import file_write_atomically, out_refusal
from xinfang.reports.outputs import LABELS, WRITERS
from xinfang.reports.services import report_build, report_period


class Command(BaseCommand):
    help = ("生成定期报表：monthly 月度通报、weekly 省级交办件周报、quarterly 季度分析、"
            "scorecard 单位考评表。")

    def add_arguments(self, parser):
        parser.add_argument("report", choices=list(WRITERS), help="报表种类")
        parser.add_argument("--period", required=True,
                            help="期间：2026-11（月）、2026-W48（周）、2026-Q4（季度）、2026（年）")
        parser.add_argument("--out", required=True, help="输出文件")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份生成")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"--as：没有有效用户“{options['username']}”。")
        membership = membership_of(user, options["membership"])
        if membership is None:
            raise CommandError(f"--as：{user.username}没有有效任职。")
        kind = options["report"]
        out = Path(options["out"])
        if why := out_refusal(out):
            raise CommandError(f"--out：{why}")
        try:
            period = report_period(kind, options["period"])
            built = report_build(kind=kind, period=period, by=membership, via="cli")
        except Refused as e:
            raise CommandError(f"--{e.field or 'period'}：{e.message}") from e
        file_write_atomically(built.file, out, prefix=".report-")
        self.stdout.write(
            f"已生成{LABELS[kind]}（{period.label}，{built.rows} 件，{membership}）到 {out}")
