"""``xinfang match --as USER [--register]``: one registration's fields as JSON per line on stdin,
one JSON result per line on stdout, in order (issue 14) — so an office can replay a history file.

    {"name": "王秀澜", "phone": "139 1234 5678", "village": "岗朱村", "matter": "…",
     "category": "危房改造", "channel": "visit", "received_at": "2026-09-14T09:30:00+08:00"}
    → {"candidates": [{"case": "建安信〔2026〕0001号", "score": 0.93, "same": "matter",
                       "reasons": ["同一手机号", "姓名同音", "诉求相似 87%"]}]}

With ``--register`` each line is then registered as a case at its ``received_at`` (the best
candidate of the same person and the same matter at or above the profile's
``matching.confirm_at`` confirmed as the earlier visit) and the result adds ``"registered"``. A
line that cannot be read or registered answers ``{"errors": {field: message}}`` and the next line
goes on. ``--rebuild-keys`` computes every person's fuzzy-name keys (after a bulk load)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xinfang.cases.errors import Refused
from xinfang.cases.services import Invalid, case_register
from xinfang.cases.services.base import unit_jurisdiction
from xinfang.org.models import switched_off_text, units_switched_off
from xinfang.rules.store import current_version, profile_of


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = "比对重复信访：每行一条登记信息（JSON），输出可能的此前信访件；--register 同时登记"

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", help="以此用户比对（及登记）")
        parser.add_argument("--membership", type=int, help="任职编号（有多个任职时）")
        parser.add_argument("--register", action="store_true", help="比对后逐行登记为信访件")
        parser.add_argument("--rebuild-keys", action="store_true",
                            help="重新计算全部信访人的比对键（批量导入后）")

    def handle(self, *args, username=None, membership=None, register=False,
               rebuild_keys=False, **options):
        if rebuild_keys:
            from xinfang.matching.services import person_keys_rebuild

            self.stdout.write(json.dumps({"keyed": person_keys_rebuild()}))
            return
        if not username:
            raise CommandError("请用 --as 指定用户。")
        from xinfang.documents.management.commands._acting import acting
        from xinfang.matching.lines import Places, read_line, registration_of
        from xinfang.matching.selectors import find_matches

        by = acting(username, membership)
        jurisdiction = unit_jurisdiction(by.unit)
        if jurisdiction is None:
            raise CommandError(f"{by.unit}及其上级均未设置规则配置。")
        places = Places(jurisdiction)
        categories = profile_of(current_version(jurisdiction.profile_code)).categories
        stdin = options.get("stdin") or sys.stdin
        for number, raw in enumerate(stdin, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as e:
                self._out({"line": number, "errors": {"line": f"第{number}行不是 JSON：{e.msg}"}})
                continue
            line, problems = read_line(data, places, categories)
            if line is None:
                self._out({"line": number, "errors": problems})
                continue
            found = find_matches(by=by, query=line.query, before=line.received_at)
            result: dict = {"line": number, "candidates": [x.as_dict() for x in found]}
            if register:
                result |= self._register(by, line, registration_of)
            self._out(result)

    def _register(self, by, line, registration_of) -> dict:
        data = registration_of(line)
        try:
            with transaction.atomic():
                # a place switched off (撤并) is found by the matching, as its past cases are,
                # but no new case is filed under it: refused as the registration form does
                off = units_switched_off([data.township, data.village])
                if off:
                    return {"errors": {u.level: switched_off_text(u) for u in off}}
                case = case_register(by=by, data=data, at=data.received_at)
        except Invalid as e:
            return {"errors": e.errors}
        except Refused as e:
            return {"errors": {e.field or "line": e.message}}
        out = {"registered": case.number}
        if case.repeat_of is not None:
            out["repeat_of"] = case.repeat_of.number
        return out

    def _out(self, result: dict) -> None:
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        self.stdout.flush()
