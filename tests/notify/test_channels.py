"""Each channel format against a real HTTP receiver on 127.0.0.1; the outage; dead letters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tests.conftest import register_in, sh
from tests.web.conftest import signed_in, walk
from xinfang.cases.services.supervision import sweep
from xinfang.notify.admin_services import channel_create, channel_update
from xinfang.notify.models import Attempt, Channel, Delivery
from xinfang.notify.outbox import deliver_pending

from .conftest import Receiver, free_port

pytestmark = pytest.mark.django_db

SECRET = "SEC0123456789abcdef"
# What the registration in tests/conftest.py says about the petitioner: none of it may leave.
IDENTITY = ["张三明", "13812345678", "将官池镇岗朱村3组", "411023198001011"]


def _channel(j, fmt, target, secret="", unit=None):
    return channel_create(unit=unit or j.townships["将官池镇"], name=f"{fmt}渠道", format=fmt,
                          target=target, secret=secret, by=j.member("sysadmin"))


def _assigned(j):
    return walk(j, register_in(j), "assigned")


def test_webhook_signed_with_hmac_sha256_over_the_body(jianan, receiver):
    ch = _channel(jianan, "webhook", receiver.url("/hook"), SECRET)
    case = _assigned(jianan)
    assert deliver_pending() == 1
    [a] = receiver.arrivals
    expected = "sha256=" + hmac.new(SECRET.encode(), a.body, hashlib.sha256).hexdigest()
    assert a.headers["X-Xinfang-Signature"] == expected
    body = a.json()
    assert body["case_number"] == case.number
    assert body["kind"] == "assigned"
    assert body["clock"] and body["due_at"] and body["left"]
    d = Delivery.objects.get(channel=ch)
    assert a.headers["X-Xinfang-Delivery"] == str(d.pk)
    assert d.status == Delivery.Status.SENT and d.attempts == 1
    assert Attempt.objects.filter(delivery=d, ok=True).count() == 1
    # A tampered body no longer matches the signature.
    forged = a.body.replace(case.number.encode(), b"X")
    assert "sha256=" + hmac.new(SECRET.encode(), forged, hashlib.sha256).hexdigest() != expected


def test_dingtalk_markdown_signed_as_dingtalk_documents(jianan, receiver):
    _channel(jianan, "dingtalk", receiver.url("/robot/send", "access_token=abc"), SECRET)
    case = _assigned(jianan)
    before = int(time.time() * 1000)
    assert deliver_pending() == 1
    [a] = receiver.arrivals
    assert a.path == "/robot/send" and a.query["access_token"] == ["abc"]
    ts = int(a.query["timestamp"][0])
    assert before - 5000 <= ts <= int(time.time() * 1000)
    # Verified independently: HMAC-SHA256 of "timestamp\nsecret" under the secret, base64.
    digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert a.query["sign"] == [base64.b64encode(digest).decode()]
    body = a.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"].startswith("【信访提醒")
    text = body["markdown"]["text"]
    assert case.number in text and "时限：" in text and "截止：" in text
    assert re.search(r"(剩余|已超期)\d+天\d+小时", text)


def test_dingtalk_refusal_is_a_failure_and_retried(jianan, receiver):
    _channel(jianan, "dingtalk", receiver.url("/robot/send", "access_token=abc"), SECRET)
    _assigned(jianan)
    receiver.answer = {"errcode": 310000, "errmsg": "sign not match"}
    assert deliver_pending() == 0
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.PENDING and d.attempts == 1
    assert "310000" in d.last_error


def test_wecom_markdown(jianan, receiver):
    _channel(jianan, "wecom", receiver.url("/cgi-bin/webhook/send", "key=k1"))
    case = _assigned(jianan)
    assert deliver_pending() == 1
    [a] = receiver.arrivals
    assert a.query["key"] == ["k1"]
    body = a.json()
    assert body["msgtype"] == "markdown" and case.number in body["markdown"]["content"]


def test_email_through_django_backend(jianan):
    _channel(jianan, "email", "zhen@example.org, zhen2@example.org")
    case = _assigned(jianan)
    assert deliver_pending() == 1
    [m] = mail.outbox
    assert m.to == ["zhen@example.org", "zhen2@example.org"]
    assert case.number in m.body and re.search(r"(剩余|已超期)\d+", m.body)


def test_no_message_carries_the_petitioners_identity(jianan, receiver):
    j = jianan
    for fmt, path in (("webhook", "/w"), ("dingtalk", "/d"), ("wecom", "/q")):
        _channel(j, fmt, receiver.url(path), SECRET)
        _channel(j, fmt, receiver.url(path), SECRET, unit=j.county)
    _channel(j, "email", "zhen@example.org")
    case = _assigned(j)
    from xinfang.cases.services import perform

    perform("sign_for", case=case, by=j.member("township"))
    sweep(at=sh(2027, 6, 1, 9))  # overdue, due soon, analysis: addressed to county and township
    sent = deliver_pending(now=sh(2027, 6, 1, 10))
    assert sent >= 8 and len(receiver.arrivals) + len(mail.outbox) == sent
    texts = [a.body.decode("utf-8") for a in receiver.arrivals]
    texts += [m.subject + m.body for m in mail.outbox]
    for text in texts:
        for secret in IDENTITY:
            assert secret not in text, (secret, text)
    assert any(case.number in t for t in texts)


def test_secret_and_target_stored_encrypted(jianan, receiver):
    ch = _channel(jianan, "dingtalk", receiver.url("/d", "access_token=tok"), SECRET)
    raw = Channel.objects.annotate(s=Cast("secret", TextField()), t=Cast("target", TextField())
                                   ).values_list("s", "t").get(pk=ch.pk)
    assert raw[0].startswith("sm4gcm:") and SECRET not in raw[0]
    assert raw[1].startswith("sm4gcm:") and "tok" not in raw[1]
    assert Channel.objects.get(pk=ch.pk).secret == SECRET


def test_outage_every_message_arrives_once_after_the_channel_returns(jianan):
    j = jianan
    port = free_port()
    receiver = Receiver(port)  # not started: the channel is down
    _channel(j, "webhook", receiver.url("/hook"), SECRET)
    cases = [walk(j, register_in(j, matter=f"第{n}件"), "assigned") for n in range(3)]
    now = timezone.now()
    for _ in range(3):  # three passes while down, each once the backoff has passed
        assert deliver_pending(now=now) == 0
        now += timedelta(hours=2)
    rows = Delivery.objects.all()
    assert rows.count() == 3
    assert all(d.status == Delivery.Status.PENDING and d.attempts == 3 for d in rows)
    assert Attempt.objects.filter(ok=False).count() == 9
    # Backoff doubles: the next try is 4 minutes after the third failure (60 s · 2²).
    d = rows.first()
    assert d.next_at - Attempt.objects.filter(delivery=d).last().at == timedelta(minutes=4)
    receiver.start()
    try:
        assert deliver_pending(now=now) == 3
        assert deliver_pending(now=now + timedelta(days=1)) == 0
        numbers = sorted(a.json()["case_number"] for a in receiver.arrivals)
        assert numbers == sorted(c.number for c in cases)  # each exactly once
    finally:
        receiver.stop()
    assert all(d.status == Delivery.Status.SENT for d in Delivery.objects.all())


def test_dead_letter_after_n_tries_shown_to_the_security_admin(jianan, settings):
    j = jianan
    settings.XINFANG_NOTIFY_MAX_ATTEMPTS = 3
    _channel(j, "webhook", f"http://127.0.0.1:{free_port()}/down")
    _assigned(j)
    now = timezone.now()
    for _ in range(5):
        deliver_pending(now=now)
        now += timedelta(days=1)
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.DEAD and d.attempts == 3
    assert Attempt.objects.filter(delivery=d).count() == 3
    page = signed_in(j.member("secadmin")).get("/security/dead-letters/")
    html = page.content.decode()
    assert page.status_code == 200 and "连接失败" in html and "将官池镇" in html
    # Not the case number, nor anyone's name: the security administrator sees no case.
    assert d.notice.case.number not in html
    assert signed_in(j.member("clerk")).get("/security/dead-letters/").status_code == 403
    # Queued again after the channel was fixed.
    client = signed_in(j.member("secadmin"))
    assert client.post(f"/security/dead-letters/{d.pk}/requeue/").status_code == 302
    d.refresh_from_db()
    assert d.status == Delivery.Status.PENDING and d.attempts == 0
    assert Attempt.objects.filter(delivery=d).count() == 3  # the history stays


def test_inactive_channel_gets_nothing_and_kinds_filter(jianan, receiver):
    j = jianan
    off = _channel(j, "webhook", receiver.url("/off"))
    channel_update(channel=off, is_active=False, by=j.member("sysadmin"))
    channel_create(unit=j.townships["将官池镇"], name="只收超期", format="webhook",
                   target=receiver.url("/overdue"), kinds=["overdue"], by=j.member("sysadmin"))
    _assigned(j)
    assert not Delivery.objects.exists()


def test_cli_send_and_test(jianan, receiver, capsys):
    ch = _channel(jianan, "wecom", receiver.url("/q"))
    _assigned(jianan)
    call_command("notify", "send")
    assert "已送达 1 条" in capsys.readouterr().out
    call_command("notify", "test", str(ch.pk))
    assert "测试消息已发出" in capsys.readouterr().out
    assert "测试消息" in receiver.arrivals[-1].json()["markdown"]["content"]
    call_command("notify", "test", ch.name)
    with pytest.raises(CommandError, match="没有这个渠道"):
        call_command("notify", "test", "不存在的渠道")
    receiver.stop()
    with pytest.raises(CommandError, match="发送失败"):
        call_command("notify", "test", str(ch.pk))


def test_admin_page_configures_a_channel_and_sends_a_test(jianan, receiver):
    j = jianan
    client = signed_in(j.member("sysadmin"))
    r = client.post("/admin/channels/", {
        "unit": j.townships["将官池镇"].pk, "name": "镇群", "format": "dingtalk",
        "target": receiver.url("/d", "access_token=x"), "secret": SECRET, "is_active": "on",
    })
    assert r.status_code == 302, r.content.decode()
    ch = Channel.objects.get(name="镇群")
    assert ch.secret == SECRET
    page = client.get(f"/admin/channels/{ch.pk}/").content.decode()
    assert SECRET not in page and "已设置签名密钥" in page
    r = client.post(f"/admin/channels/{ch.pk}/test/", follow=True)
    assert "测试消息已发出" in r.content.decode()
    assert receiver.arrivals[-1].query["sign"]
    # Editing without a secret keeps it; a bad address names the field.
    r = client.post(f"/admin/channels/{ch.pk}/", {"name": "镇群", "target": "ftp://x",
                                                   "is_active": "on"})
    assert r.status_code == 400 and "http://" in r.content.decode()
    r = client.post(f"/admin/channels/{ch.pk}/", {"name": "镇群2", "target": ch.target,
                                                   "is_active": "on"})
    assert r.status_code == 302
    ch.refresh_from_db()
    assert ch.name == "镇群2" and ch.secret == SECRET
    from xinfang.audit.models import AuditEntry
    assert {"channel_create", "channel_update", "channel_test"} <= set(
        AuditEntry.objects.values_list("action", flat=True))
    # Nobody else configures channels.
    assert signed_in(j.member("clerk")).get("/admin/channels/").status_code == 403

