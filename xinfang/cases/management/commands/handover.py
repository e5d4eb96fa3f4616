"""``xinfang handover --from 将官池镇 --to 五女店镇 --reason … --receiver … --as USER`` — a petition
office moves all the open work of one unit to another (乡镇撤并), each case through the
``reassign`` transition; the cases that cannot move are listed with why. Run again, it moves
only what has not moved. ``--dry-run`` lists the cases it would move."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases.errors import Refused
from xinfang.cases.services.handover import unit_hand_over, unit_named, unit_open_cases
from xinfang.documents.management.commands._acting import acting


class Command(BaseCommand):
    help = ("受理机关将一个单位的在办信访件全部改派给另一单位（乡镇撤并、工作移交），"
            "逐件记入办理记录。")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="old", required=True, help="移交单位（名称或编号）")
        parser.add_argument("--to", dest="new", required=True, help="接收单位（名称或编号）")
        parser.add_argument("--reason", default="", help="移交理由，如：乡镇撤并")
        parser.add_argument("--receiver", default="", help="接收单位的接收人")
        parser.add_argument("--as", dest="username", required=True,
                            help="以该用户（经办人或分管领导）的身份")
        parser.add_argument("--membership", type=int, help="任职编号（默认：第一个有效任职）")
        parser.add_argument("--dry-run", action="store_true", help="只列出将改派的信访件")

    def handle(self, *args, **options):
        by = acting(options["username"], options["membership"])
        try:
            old = unit_named(by=by, ref=options["old"], field="from")
            new = unit_named(by=by, ref=options["new"], field="to")
            if options["dry_run"]:
                numbers = list(unit_open_cases(by=by, unit=old).values_list("number", flat=True))
                self.stdout.write(f"{old}在办信访件{len(numbers)}件：")
                for number in numbers:
                    self.stdout.write(f"  {number}")
                return
            out = unit_hand_over(by=by, old=old, new=new, reason=options["reason"],
                                 receiver_name=options["receiver"])
        except Refused as e:
            raise CommandError(e.message) from None
        for number in out.moved:
            self.stdout.write(f"已改派 {number}：{old} → {new}")
        for number, why in out.refused:
            self.stderr.write(f"未改派 {number}：{why}")
        self.stdout.write(out.summary())
        if out.refused:
            raise CommandError(f"{len(out.refused)}件未能改派，见上；处理后可再次运行本命令。")
