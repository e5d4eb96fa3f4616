"""Two deliverers at once on PostgreSQL: each outbox row is sent exactly once; two readers of
one notice mark it once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from tests.conftest import register_in
from tests.racing import race
from tests.web.conftest import walk
from xinfang.notify import outbox
from xinfang.notify.admin_services import channel_create, notice_read
from xinfang.notify.models import Attempt, Delivery, Notice, NoticeState
from xinfang.notify.outbox import deliver_pending, fan_out
from xinfang.notify.selectors import inbox

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="several workers need a real PostgreSQL (CI=true DATABASE_URL=…)"),
]


def test_two_deliverers_never_send_a_row_twice(jianan, receiver, monkeypatch):
    j = jianan
    monkeypatch.setattr(outbox, "BATCH", 4)  # many small claims, so the workers contend
    for n in range(3):
        channel_create(unit=j.townships["将官池镇"], name=f"群{n}", format="webhook",
                       target=receiver.url(f"/h{n}"), by=j.member("sysadmin"))
    for n in range(25):
        walk(j, register_in(j, matter=f"第{n}件"), "assigned")
    township = Notice.objects.filter(outbox_pending=True, unit=j.townships["将官池镇"]).count()
    assert township >= 25
    assert not Delivery.objects.exists()
    fan_out()  # first, so that the deliverers below race for the same rows from the start
    total = 3 * township
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == total
    now = timezone.now()
    barrier = threading.Barrier(3)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(deliver_pending(now=now))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sum(results) == total
    ids = Counter(a.headers["X-Xinfang-Delivery"] for a in receiver.arrivals)
    assert len(ids) == total and set(ids.values()) == {1}
    assert Delivery.objects.count() == total
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == total
    assert not Notice.objects.filter(outbox_pending=True).exists()
    assert Attempt.objects.count() == total


def test_two_requests_marking_one_notice_read_count_it_once(jianan):
    """The second waits on the first's row and writes nothing: it says 0, not 1 as well."""
    j = jianan
    walk(j, register_in(j), "assigned")
    member = j.member("township")
    notice = inbox(member).first()
    out = race(lambda: notice_read(notice_ids=[notice.pk], by=member),
               lambda: notice_read(notice_ids=[notice.pk], by=member))
    assert out == {"first": 1, "second": 0, "second_waited": True}
    assert NoticeState.objects.filter(notice=notice, user=member.user).count() == 1
