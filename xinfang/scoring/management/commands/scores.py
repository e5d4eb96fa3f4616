"""``xinfang scores bulletin --period 2026-Q3 --format docx --out FILE --as USER`` — the ranking
bulletin (考核排名通报) from the command line; ``xinfang scores show --period 2026 --as USER``
prints the ranking and the goals. The same permission door and audit entry as the page."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinfang.api.membership import membership_of
from xinfang.cases.errors import Refused
from xinfang.org.models import User
from xinfang.reports.files import file_write_atomically, out_refusal
from xinfang.scoring.bulletin import fmt_value, verdict
from xinfang.scoring.services import FORMATS, scores_bulletin_build, scores_period, scores_read


class Command(BaseCommand):
    help = "考核评分：show 显示排名与工作目标，bulletin 生成排名通报（Word 或 Excel）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["show", "bulletin"])
        parser.add_argument("--period", required=True, help="期间：2026-Q3（季度）或 2026（年）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")
        parser.add_argument("--format", default="docx", choices=list(FORMATS))
        parser.add_argument("--out", help="输出文件（bulletin）")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"--as：没有有效用户“{o['username']}”。")
        membership = membership_of(user, o["membership"])
        if membership is None:
            raise CommandError(f"--as：{user.username}没有有效任职。")
        now = timezone.now()
        try:
            period = scores_period(o["period"])
            if o["action"] == "show":
                return self._show(membership, period, now)
            if not o["out"]:
                raise CommandError("--out：请给出输出文件。")
            out = Path(o["out"])
            if why := out_refusal(out):
                raise CommandError(f"--out：{why}")
            built = scores_bulletin_build(by=membership, period=period, fmt=o["format"],
                                          now=now, via="cli")
        except Refused as e:
            raise CommandError(f"--{e.field or 'period'}：{e.message}") from e
        file_write_atomically(built.file, out, prefix=".scores-")
        self.stdout.write(f"已生成考核排名通报（{period.label}）到 {out}")

    def _show(self, membership, period, now) -> None:
        scores, goals = scores_read(by=membership, period=period, now=now)
        self.stdout.write(f"{period.label} 考核评分（{membership}）")
        if scores.scoring is None:
            self.stdout.write("本机关的规则配置未设定考核评分项目。")
        for u in scores.units:
            parts = "，".join(f"{r.point.label} {r.cases}件 {r.applied:+g}" for r in u.points
                             if r.cases)
            self.stdout.write(f"{u.rank}\t{u.unit}\t{u.score:g}\t{parts}")
        for g in goals:
            self.stdout.write(f"目标 {g.goal.label}：本期 {fmt_value(g, g.now)}，去年同期 "
                              f"{fmt_value(g, g.before)}，{g.change}，{verdict(g.met)}")
