"""``xinfang audit``: check and read the audit trail.

    xinfang audit verify                 # exit status 1 and the first bad entry if the chain broke
    xinfang audit verify --checkpoints /mnt/offsite/audit-checkpoints.jsonl   # a shipped copy
    xinfang audit checkpoint             # append a signed checkpoint of both heads to the file
    xinfang audit list [--action login_failed] [--actor 张] [--since 2026-09-01] [--limit 50]
    xinfang audit list --full            # each entry's whole detail (an export's every number)
    xinfang audit prune --before 2026-01-01   # refuses anything inside the retention period
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from xinfang.audit.checkpoints import checkpoint_path, checkpoint_verify, checkpoint_write
from xinfang.audit.history import history_verify
from xinfang.audit.models import AuditEntry
from xinfang.audit.selectors import by_actor, listed, shown
from xinfang.audit.services import (
    ACTIONS,
    LIST_SHOWN,
    RetentionRefused,
    audit_prune,
    audit_verify,
)
from xinfang.security.crypto import KeyFileError


def _instant(text: str, argument: str) -> datetime:
    """``2026-09-01`` (local midnight) or a full ISO date-time; ``argument`` names the option in
    the error. Django's parsers answer None for text not shaped like a date and raise for one
    shaped like a date that no calendar holds (2026-02-30): both are the user's typo."""
    try:
        moment = parse_datetime(text)
        day = parse_date(text) if moment is None else None
    except ValueError:
        moment = day = None
    if moment is None:
        if day is None:
            raise CommandError(f"{argument}：无法识别的日期：{text}（格式如 2026-09-01）")
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


MAX_LIMIT = 100_000  # a page of the listing; larger asks the database for a number it cannot hold


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为整数，收到 {text}") from None
    if not 0 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"须在 0 到 {MAX_LIMIT:,} 之间，收到 {text}")
    return value


class Command(BaseCommand):
    help = "校验、查看、清理审计记录。"

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser(
            "verify", help="校验审计链、办理记录链和检查点；有改动或删除时以非零状态退出")
        verify.add_argument("--checkpoints", help="核对这份检查点文件（如异地保存的副本），"
                            "默认为 AUDIT_CHECKPOINT_FILE")
        actions.add_parser("checkpoint", help="把审计链和办理记录链的当前末端写入检查点文件")
        listing = actions.add_parser("list", help="按时间倒序列出审计记录")
        listing.add_argument("--action", dest="kind", choices=ACTIONS, help="只列出这种操作")
        listing.add_argument("--actor", help="只列出操作人姓名含此文字的记录")
        listing.add_argument("--since", help="只列出此时间之后的记录（如 2026-09-01）")
        listing.add_argument("--limit", type=_limit, default=50,
                             help=f"最多列出多少条（默认 50，至多 {MAX_LIMIT:,}）")
        listing.add_argument("--full", action="store_true",
                             help="列出完整详情（默认：导出记录的长清单只列前 20 项及总数）")
        prune = actions.add_parser("prune", help="清理保存期以前的记录（保存期内的一律拒绝）")
        prune.add_argument("--before", required=True, help="清理此时间之前的记录")

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify(options["checkpoints"])
        elif action == "checkpoint":
            self.checkpoint()
        elif action == "list":
            self.list_entries(kind=options["kind"], actor=options["actor"],
                              since=options["since"], limit=options["limit"],
                              full=options["full"])
        else:
            self.prune(options["before"])

    def verify(self, checkpoints: str | None) -> None:
        # A copy named here is the one the verify trusts instead of the local file: one that is
        # not there (a mistyped path) would be read as "no checkpoint yet" and the trail passed.
        if checkpoints is not None and not Path(checkpoints).is_file():
            raise CommandError(f"--checkpoints：找不到检查点文件“{checkpoints}”。")
        try:
            chain = audit_verify()
            history = history_verify()
            against = checkpoint_verify(Path(checkpoints) if checkpoints else None)
        except KeyFileError as e:
            raise CommandError(f"无法读取密钥文件，不能校验：{e}") from e
        failures = []
        if not chain.ok:
            failures.append(
                f"审计链校验失败（第一条问题记录 #{chain.first_bad_id}）：{chain.message}")
        if not history.ok:
            failures.append(f"办理记录校验失败（第一条问题记录 #{history.first_bad_id}）："
                            f"{history.message}")
        if not against.ok:
            failures.append(f"检查点核对失败：{against.message}")
        if failures:
            raise CommandError("\n".join(failures))
        self.stdout.write(chain.message)
        self.stdout.write(history.message)
        self.stdout.write(against.message)
        if chain.head_hash:
            self.stdout.write(f"最新 MAC：{chain.head_hash}")

    def checkpoint(self) -> None:
        if checkpoint_path() is None:
            raise CommandError("未配置检查点文件：请设置 AUDIT_CHECKPOINT_FILE。")
        line = checkpoint_write()
        self.stdout.write(
            f"已写入检查点（{checkpoint_path()}）：审计记录 {line['audit']['total']} 条，"
            f"办理记录 {line['history']['count']} 条。请把该文件同步到本机之外。")

    def list_entries(self, *, kind: str | None, actor: str | None, since: str | None,
                     limit: int, full: bool) -> None:
        """As the auditor's page lists the trail: a long list in an entry's detail (an export's
        case numbers, 1.8 MB a line at 100,000 rows) as its brief, marked with its length,
        unless ``full``."""
        entries = AuditEntry.objects.order_by("-id")
        if kind:
            entries = entries.filter(action=kind)
        if actor:
            entries = by_actor(entries, actor)
        if since:
            entries = entries.filter(at__gte=_instant(since, "--since"))
        for entry in (entries if full else listed(entries))[: max(limit, 0)]:
            target = f"{entry.object_type}:{entry.object_id}" if entry.object_type else "-"
            detail, cut = (entry.detail, None) if full else shown(entry)
            text = json.dumps(detail, ensure_ascii=False) if detail else ""
            if cut:
                text += "\t（" + "；".join(f"{key} 共 {n} 项，只列前 {LIST_SHOWN} 项"
                                         for key, n in cut.items()) + "；--full 列出全部）"
            self.stdout.write(
                f"#{entry.id}\t{timezone.localtime(entry.at):%Y-%m-%d %H:%M:%S}\t{entry.action}\t"
                f"{entry.actor_name or '-'}\t{target}\t{entry.ip or '-'}\t{text}"
            )

    def prune(self, before: str) -> None:
        moment = _instant(before, "--before")
        try:
            removed = audit_prune(moment, actor_name=f"cli:{getpass.getuser()}")
        except RetentionRefused as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"已清理 {removed} 条审计记录，并写入检查点。")
