"""Writes on the inbox and the channels: each one audited, each one atomic."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.cases.errors import Refused
from xinfang.db.inserts import insert_new
from xinfang.org.models import Membership, Unit

from . import channels as ch
from .messages import test_message
from .models import Channel, Delivery, Kind, Notice, NoticeState
from .outbox import requeue
from .selectors import addressed_to, notice_for


def notice_read(*, notice_ids: list[int], by: Membership, at: datetime | None = None) -> int:
    """Mark these notices read for ``by``'s user (ids outside the door are ignored).

    Answers how many this call marked: the rows its own insert wrote. Another request marking
    the same notice at the same moment waits on the row and writes nothing, so it does not count
    the notice a second time (a count read before the insert would).
    """
    at = at or timezone.now()
    visible = list(
        addressed_to(by).filter(pk__in=notice_ids)
        .values_list("pk", flat=True)
    )
    written = insert_new(
        NoticeState,
        [{"notice_id": pk, "user_id": by.user_id, "read_at": at, "dismissed_at": None,
          "reason": ""} for pk in visible],
        unique=("user_id", "notice_id"), returning="notice_id",
    )
    return len(written)


NOT_FOUND = "未找到该提醒。"


def notice_dismiss(*, notice_id: int, by: Membership, reason: str = "",
                   at: datetime | None = None) -> NoticeState:
    """Put a notice away (销号); those that need one ask for the reason."""
    at = at or timezone.now()
    reason = (reason or "").strip()
    try:
        notice = notice_for(by, notice_id)
    except Notice.DoesNotExist:
        raise Refused(NOT_FOUND) from None
    if notice.needs_reason and not reason:
        raise Refused("此类提醒销号须写明理由。", field="reason")
    if len(reason) > 300:
        raise Refused("理由不能超过300字。", field="reason")
    with transaction.atomic():
        state, _ = NoticeState.objects.select_for_update().get_or_create(
            notice=notice, user_id=by.user_id, defaults={"read_at": at}
        )
        if state.dismissed_at is not None:
            raise Refused("该提醒已销号。")
        state.read_at = state.read_at or at
        state.dismissed_at = at
        state.reason = reason
        state.save()
        audit_record(action="notice_dismiss", actor=by,
                     object_type="case" if notice.case_id else "notice",
                     object_id=notice.case_id or notice.pk,
                     detail={"notice": notice.pk, "kind": notice.kind, "reason": reason}, at=at)
    return state


def _clean(fmt: str, target: str, kinds: list[str] | None) -> tuple[str, list[str]]:
    if fmt not in Channel.Format.values:
        raise Refused("请选择渠道类型。", field="format")
    try:
        target = ch.check_target(fmt, target)
    except ValidationError as e:
        raise Refused(e.messages[0], field="target") from None
    kinds = [k for k in (kinds or []) if k]
    bad = [k for k in kinds if k not in Kind.values or k == Kind.TEST]
    if bad:
        raise Refused(f"未知的推送类别：{'、'.join(bad)}", field="kinds")
    return target, kinds


def channel_create(*, unit: Unit, name: str, format: str, target: str, secret: str = "",
                   kinds: list[str] | None = None, by: Membership) -> Channel:
    name = (name or "").strip()
    if not name:
        raise Refused("请填写渠道名称。", field="name")
    target, kinds = _clean(format, target, kinds)
    with transaction.atomic():
        channel = Channel.objects.create(unit=unit, name=name[:60], format=format,
                                         target=target, secret=(secret or "").strip(),
                                         kinds=kinds)
        audit_record(action="channel_create", actor=by, object_type="channel",
                     object_id=channel.pk,
                     detail={"unit": unit.pk, "name": channel.name, "format": format,
                             "kinds": kinds, "has_secret": bool(channel.secret)})
    return channel


def channel_update(*, channel: Channel, by: Membership, name: str | None = None,
                   target: str | None = None, secret: str | None = None,
                   kinds: list[str] | None = None, is_active: bool | None = None) -> Channel:
    """Change what is given; an empty ``secret`` keeps the one stored (the page never shows
    it), ``secret='-'`` clears it."""
    changed = []
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        if name is not None:
            if not name.strip():
                raise Refused("请填写渠道名称。", field="name")
            channel.name = name.strip()[:60]
            changed.append("name")
        if target is not None or kinds is not None:
            t, k = _clean(channel.format, target if target is not None else channel.target,
                          kinds if kinds is not None else channel.kinds)
            if target is not None:
                channel.target = t
                changed.append("target")
            if kinds is not None:
                channel.kinds = k
                changed.append("kinds")
        if secret:
            channel.secret = "" if secret.strip() == "-" else secret.strip()
            changed.append("secret")
        if is_active is not None:
            channel.is_active = is_active
            changed.append("is_active")
        channel.save()
        audit_record(action="channel_update", actor=by, object_type="channel",
                     object_id=channel.pk,
                     detail={"changed": changed, "is_active": channel.is_active})
    return channel


def channel_test(*, channel: Channel, by: Membership | None, actor_name: str | None = None
                 ) -> tuple[bool, str]:
    """Send a test message now (not through the outbox); returns (ok, what happened)."""
    now = timezone.now()
    try:
        detail, ok = ch.send(channel, test_message(now=now)), True
    except ch.SendError as e:
        detail, ok = str(e), False
    audit_record(action="channel_test", actor=by, actor_name=actor_name, object_type="channel",
                 object_id=channel.pk, detail={"ok": ok, "result": detail[:200]})
    return ok, detail


def dead_letter_requeue(*, delivery: Delivery, by: Membership) -> bool:
    with transaction.atomic():
        done = requeue(delivery=delivery)
        if done:
            audit_record(action="delivery_requeue", actor=by, object_type="delivery",
                         object_id=delivery.pk, detail={"channel": delivery.channel_id})
    return done
