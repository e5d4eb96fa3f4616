"""``db.inserts.insert_new``: rows inserted where their unique key is free, answering what the
statement itself wrote."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import register_in, sh
from tests.web.conftest import walk
from xinfang.db.inserts import insert_new
from xinfang.notify.models import NoticeState
from xinfang.notify.selectors import inbox

pytestmark = pytest.mark.django_db


def test_only_the_free_keys_are_written_and_answered_in_one_statement(jianan):
    # given two notices of the township, one of them already read
    walk(jianan, register_in(jianan), "assigned")
    walk(jianan, register_in(jianan), "assigned")
    member = jianan.member("township")
    first, second = (n.pk for n in inbox(member)[:2])
    NoticeState.objects.create(notice_id=first, user_id=member.user_id, read_at=sh(2026, 9, 1, 9))
    rows = [{"notice_id": pk, "user_id": member.user_id, "read_at": sh(2026, 9, 2, 10),
             "dismissed_at": None, "reason": ""} for pk in (first, second)]
    # when both are inserted
    with CaptureQueriesContext(connection) as asked:
        written = insert_new(NoticeState, rows, unique=("user_id", "notice_id"),
                             returning="notice_id")
    # then only the free one, in one statement; the taken row kept as it was
    assert written == [second] and len(asked.captured_queries) == 1
    states = dict(NoticeState.objects.values_list("notice_id", "read_at"))
    assert states == {first: sh(2026, 9, 1, 9), second: sh(2026, 9, 2, 10)}
    # the primary key by default; nothing to write, nothing asked
    again = insert_new(NoticeState, rows[:1], unique=("user_id", "notice_id"))
    assert again == []
    assert insert_new(NoticeState, [], unique=("user_id", "notice_id")) == []
