"""``xinfang practices_sweep``: one pass of the practices' sweep (the periodic job runs it too)."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from xinfang.practices.sweep import sweep


class Command(BaseCommand):
    help = "标记逾期未回访、未复核、未召开会议、未跟进劝返和专项任务逾期，并提醒责任单位。"

    def handle(self, *args, **options):
        result = sweep(at=timezone.now()).as_dict()
        self.stdout.write(json.dumps(result, ensure_ascii=False))
