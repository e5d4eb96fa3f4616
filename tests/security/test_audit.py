"""The audit trail: a hash chain that ``xinfang audit verify`` walks, append-only in the database,
kept at least 180 days."""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry
from xinfang.audit.services import (
    GENESIS,
    RetentionRefused,
    audit_prune,
    audit_record,
    audit_verify,
    entry_hash,
)
from xinfang.org.models import User

TABLE = "audit_auditentry"


@contextmanager
def triggers_off():
    """What someone with the database owner's rights could do: switch the append-only trigger
    off. (Inside the test's transaction, so it comes back afterwards.)"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check: run those now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_no_change")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(f"DROP TRIGGER {TABLE}_no_update")
        yield cursor


def raw_update(sql: str, params: list) -> None:
    with triggers_off() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def user(db):
    return User.objects.create_user(username="auditee", full_name="赵审计", password="x")


@pytest.fixture
def five(user):
    return [
        audit_record(action=audit.LOGIN, actor=user, ip="10.0.0.1"),
        audit_record(action=audit.REVEAL, actor=user, object_type="petitioner", object_id=7,
                     detail={"field": "id_number"}),
        audit_record(action=audit.EXPORT, actor=user, detail={"rows": 12, "ratio": 0.5}),
        audit_record(action=audit.DOWNLOAD, actor=user, object_type="attachment", object_id=3),
        audit_record(action=audit.LOGOUT, actor=user),
    ]


def test_each_entry_carries_the_hash_of_the_one_before(five):
    entries = list(AuditEntry.objects.order_by("id"))

    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert entries[0].actor_name == "赵审计"
    assert entries[0].ip == "10.0.0.1"


def test_the_stored_hash_covers_what_the_database_hands_back(five):
    for e in AuditEntry.objects.order_by("id"):
        assert e.hash == entry_hash(
            prev_hash=e.prev_hash, at=e.at, actor_id=e.actor_id, actor_name=e.actor_name,
            action=e.action, object_type=e.object_type, object_id=e.object_id, detail=e.detail,
            ip=e.ip,
        )


def test_verify_passes_an_untouched_chain(five, capsys):
    result = audit_verify()
    assert result.ok and result.checked == 5
    assert result.head_hash == five[-1].hash

    call_command("audit", "verify")
    assert "共校验 5 条" in capsys.readouterr().out


def test_the_database_refuses_to_update_an_entry(five):
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET ip = %s WHERE id = %s", ["6.6.6.6", five[0].pk])


def test_verify_command_fails_on_an_entry_altered_in_the_database(five):
    # given an entry whose detail someone rewrote behind the application's back
    raw_update(f"UPDATE {TABLE} SET detail = %s WHERE id = %s", ['{"rows": 1}', five[2].pk])

    # when / then
    with pytest.raises(CommandError, match=f"#{five[2].pk}"):
        call_command("audit", "verify")
    assert audit_verify().first_bad_id == five[2].pk


def test_verify_fails_on_an_altered_actor_or_time(five):
    raw_update(f"UPDATE {TABLE} SET at = %s WHERE id = %s",
               [five[1].at - timedelta(seconds=1), five[1].pk])

    assert audit_verify().first_bad_id == five[1].pk


def test_verify_fails_when_an_entry_is_removed(five):
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [five[2].pk])

    result = audit_verify()

    assert not result.ok
    assert result.first_bad_id == five[3].pk
    assert "删除" in result.message


def test_verify_fails_when_the_first_entry_is_removed(five):
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [five[0].pk])

    assert audit_verify().first_bad_id == five[1].pk


def test_verify_fails_when_two_entries_trade_places(five):
    a, b = five[1], five[3]
    with triggers_off() as cursor:
        for entry, other in ((a, b), (b, a)):
            cursor.execute(
                f"UPDATE {TABLE} SET action = %s, object_type = %s, object_id = %s, "
                f"detail = %s, hash = %s WHERE id = %s",
                [other.action, other.object_type, other.object_id, "{}",
                 other.hash[::-1], entry.pk],
            )

    assert audit_verify().first_bad_id == a.pk


def test_verify_fails_when_a_rewritten_hash_no_longer_matches_the_next_entry(five):
    forged = entry_hash(prev_hash=five[1].prev_hash, at=five[1].at, actor_id=None,
                        actor_name="", action="login", object_type="", object_id="",
                        detail={}, ip="")
    raw_update(f"UPDATE {TABLE} SET actor_id = NULL, actor_name = '', action = 'login', "
               f"object_type = '', object_id = '', detail = '{{}}', ip = '', hash = %s "
               f"WHERE id = %s", [forged, five[1].pk])

    assert audit_verify().first_bad_id == five[2].pk


def test_audit_list_filters_by_action(five, capsys):
    call_command("audit", "list", "--action", "reveal")

    out = capsys.readouterr().out
    assert "reveal" in out and "login" not in out


def test_detail_values_are_normalised_before_hashing(user):
    entry = audit_record(action=audit.EXPORT, actor=user,
                         detail={"when": timezone.now(), "big": 1e20, "n": 2.0})

    entry.refresh_from_db()
    assert entry.detail["big"] == 10**20
    assert audit_verify().ok


# -- retention ------------------------------------------------------------------------------------


def test_prune_refuses_anything_younger_than_180_days(five):
    with pytest.raises(RetentionRefused, match="180"):
        audit_prune(timezone.now() - timedelta(days=179))
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "prune", "--before", str(timezone.localdate()))

    assert AuditEntry.objects.count() == 5


def test_prune_removes_old_entries_and_leaves_a_checkpoint_verify_accepts(user):
    now = timezone.now()
    old = [audit_record(action=audit.LOGIN, actor=user, at=now - timedelta(days=400 - i))
           for i in range(3)]
    young = [audit_record(action=audit.LOGIN, actor=user, at=now - timedelta(days=10 - i))
             for i in range(2)]

    removed = audit_prune(now - timedelta(days=200))

    assert removed == 3
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    checkpoint = AuditEntry.objects.get(action=audit.CHECKPOINT)
    assert checkpoint.detail["anchor_hash"] == old[-1].hash
    assert audit_verify().ok
    assert audit_verify().checked == 3  # the two young entries and the checkpoint

    # the remaining chain is still protected: removing its first entry is noticed
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [young[0].pk])
    assert audit_verify().first_bad_id == young[1].pk


def test_prune_of_everything_old_starts_the_chain_at_the_checkpoint(user):
    now = timezone.now()
    for i in range(3):
        audit_record(action=audit.LOGIN, actor=user, at=now - timedelta(days=300 + i))

    assert audit_prune(now - timedelta(days=200)) == 3
    audit_record(action=audit.LOGIN, actor=user)

    assert AuditEntry.objects.count() == 2
    assert audit_verify().ok


def test_a_second_prune_supersedes_the_first_checkpoint(user):
    now = timezone.now()
    for days in (500, 450, 300, 250):
        audit_record(action=audit.LOGIN, actor=user, at=now - timedelta(days=days))
    audit_prune(now - timedelta(days=400))
    audit_record(action=audit.LOGIN, actor=user)

    audit_prune(now - timedelta(days=200), now=now)

    assert audit_verify().ok


# -- concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    errors = []

    def write(n):
        try:
            for i in range(10):
                audit_record(action=audit.LOGIN, actor_name=f"w{n}", detail={"i": i})
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert AuditEntry.objects.count() == 40
    assert AuditEntry.objects.values("prev_hash").distinct().count() == 40
    assert audit_verify().ok
