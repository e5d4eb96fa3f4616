"""The four outbound formats. ``send(channel, message)`` returns a short description of what the
receiver answered, or raises ``SendError`` (the outbox then retries later).

- email: Django's configured email backend (``EMAIL_*`` settings), plain text;
- webhook: ``POST`` of the message as JSON, signed ``X-Xinfang-Signature: sha256=<hex>`` —
  HMAC-SHA256 of the raw body under the channel's secret; ``X-Xinfang-Delivery`` carries the
  outbox row's id so a receiver can drop a repeat;
- DingTalk custom robot: ``msgtype`` markdown; with a secret, ``timestamp`` (ms) and ``sign`` =
  base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")) are added to the address, as DingTalk
  documents; an ``errcode`` other than 0 is a failure;
- WeCom group robot: ``msgtype`` markdown; ``errcode`` other than 0 is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote_plus, urlsplit

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email

from .messages import Message
from .models import Channel

TIMEOUT_SECONDS = 10
# No proxy from the environment: a message goes to the address configured, nowhere else.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SendError(Exception):
    pass


def check_target(fmt: str, target: str) -> str:
    """The target cleaned, or ValidationError naming what is wrong."""
    target = (target or "").strip()
    if not target:
        raise ValidationError("请填写地址。")
    if fmt == Channel.Format.EMAIL:
        addresses = [a.strip() for a in target.replace("，", ",").split(",") if a.strip()]
        for a in addresses:
            try:
                validate_email(a)
            except ValidationError:
                raise ValidationError(f"邮箱地址格式不正确：{a}") from None
        return ",".join(addresses)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("地址须为 http:// 或 https:// 开头的网址。")
    return target


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.read(65536)
    except urllib.error.HTTPError as e:
        raise SendError(f"HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise SendError(f"连接失败：{reason}") from None


def _robot_answer(raw: bytes) -> str:
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SendError("机器人返回的不是 JSON") from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        msg = answer.get("errmsg") if isinstance(answer, dict) else None
        raise SendError(f"机器人拒收：errcode={code} {msg or ''}".strip())
    return "errcode=0"


def send(channel: Channel, message: Message, *, delivery_id: int | None = None) -> str:
    fmt = channel.format
    if fmt == Channel.Format.EMAIL:
        to = [a for a in channel.target.split(",") if a]
        try:
            sent = EmailMessage(subject=message.title, body=message.plain(), to=to).send()
        except Exception as e:  # smtplib and socket errors alike: the outbox retries
            raise SendError(f"邮件发送失败：{type(e).__name__}") from None
        if not sent:
            raise SendError("邮件未发出")
        return f"已发至 {len(to)} 个邮箱"
    if fmt == Channel.Format.WEBHOOK:
        body = json.dumps(
            {**message.as_json(), "delivery": delivery_id}, ensure_ascii=False
        ).encode("utf-8")
        headers = {"X-Xinfang-Delivery": str(delivery_id or "test")}
        if channel.secret:
            headers["X-Xinfang-Signature"] = webhook_signature(channel.secret, body)
        _post(channel.target, body, headers)
        return "HTTP 2xx"
    if fmt == Channel.Format.DINGTALK:
        url = channel.target
        if channel.secret:
            ts = int(time.time() * 1000)
            sign = quote_plus(dingtalk_sign(channel.secret, ts))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
        body = json.dumps(
            {"msgtype": "markdown",
             "markdown": {"title": message.title, "text": message.markdown()}},
            ensure_ascii=False,
        ).encode("utf-8")
        return _robot_answer(_post(url, body, {}))
    if fmt == Channel.Format.WECOM:
        body = json.dumps(
            {"msgtype": "markdown", "markdown": {"content": message.markdown()}},
            ensure_ascii=False,
        ).encode("utf-8")
        return _robot_answer(_post(channel.target, body, {}))
    raise SendError(f"未知的渠道类型：{fmt}")
