"""The audit trail: an HMAC chain under a key outside the database that ``xinfang audit verify``
walks, append-only in the database, kept at least 180 days; the case history sealed the same way;
signed checkpoints outside the database that catch a cut-off tail."""

import json
import re
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from xinfang.audit import services as audit
from xinfang.audit.checkpoints import checkpoint_verify, checkpoint_write
from xinfang.audit.history import history_verify
from xinfang.audit.models import AuditEntry
from xinfang.audit.services import (
    GENESIS,
    RetentionRefused,
    audit_prune,
    audit_record,
    audit_verify,
    entry_hash,
    entry_mac,
)
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import perform
from xinfang.org.models import User
from xinfang.security.crypto import get_keyring

TABLE = "audit_auditentry"
HISTORY = "cases_caseevent"


@contextmanager
def triggers_off(table=TABLE):
    """What someone with the database owner's rights could do: switch the append-only triggers
    off. (Inside the test's transaction, so they come back afterwards.)"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check: run those now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_change")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(f"DROP TRIGGER {table}_no_update")
            cursor.execute(f"DROP TRIGGER {table}_no_delete")
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


def test_the_stored_mac_covers_what_the_database_hands_back(five):
    ring = get_keyring()
    for e in AuditEntry.objects.order_by("id"):
        assert e.mac_key_id == ring.current_mac_key_id
        assert (e.mac_key_id, e.hash) == entry_mac(
            key_id=e.mac_key_id, prev_hash=e.prev_hash, at=e.at, actor_id=e.actor_id,
            actor_name=e.actor_name, action=e.action, object_type=e.object_type,
            object_id=e.object_id, detail=e.detail, ip=e.ip,
        )
        # not a plain hash anyone could recompute
        assert e.hash != entry_hash(
            prev_hash=e.prev_hash, at=e.at, actor_id=e.actor_id, actor_name=e.actor_name,
            action=e.action, object_type=e.object_type, object_id=e.object_id, detail=e.detail,
            ip=e.ip)


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
    forged = entry_mac(key_id=five[1].mac_key_id,
                       prev_hash=five[1].prev_hash, at=five[1].at, actor_id=None,
                        actor_name="", action="login", object_type="", object_id="",
                        detail={}, ip="")[1]
    raw_update(f"UPDATE {TABLE} SET actor_id = NULL, actor_name = '', action = 'login', "
               f"object_type = '', object_id = '', detail = '{{}}', ip = '', hash = %s "
               f"WHERE id = %s", [forged, five[1].pk])

    assert audit_verify().first_bad_id == five[2].pk


def test_audit_list_filters_by_action(five, capsys):
    call_command("audit", "list", "--action", "reveal")

    out = capsys.readouterr().out
    assert "reveal" in out and "login" not in out


@pytest.mark.parametrize("argv", [
    ["list", "--since", "2026-13-01"],
    ["list", "--since", "2026-02-30"],
    ["list", "--since", "2026-09-01T25:00"],
    ["prune", "--before", "2026-02-30"],
])
def test_a_date_no_calendar_holds_is_an_error_naming_the_argument(five, argv):
    # shaped like a date, so the parser took it, yet no day: a ValueError traceback, and for
    # prune a destructive command answering with one
    with pytest.raises(CommandError, match=argv[1]):
        call_command("audit", *argv)
    assert AuditEntry.objects.count() == len(five)


def test_audit_list_finds_an_actor_by_part_of_the_name_and_cuts_a_long_export(user, capsys):
    """``xinfang audit list`` lists as the auditor's page does: by who acted (any part of the
    name, any case), and an export's long list of case numbers as its first twenty and its
    length unless ``--full``."""
    numbers = [f"建安{n:05d}" for n in range(300)]
    audit_record(action=audit.EXPORT, actor=user, object_type="ledger", object_id="L0",
                 detail={"ledger": "L0", "cases": numbers})
    audit_record(action=audit.LOGIN, actor_name="Zhang.Wei", ip="10.0.0.9")

    call_command("audit", "list", "--actor", "审计")
    out = capsys.readouterr().out
    assert "赵审计" in out and "Zhang.Wei" not in out
    line = next(x for x in out.splitlines() if "\texport\t" in x)
    assert numbers[19] in line and numbers[20] not in line
    assert "cases 共 300 项" in line and "--full" in line
    call_command("audit", "list", "--actor", "zhang.W")
    out = capsys.readouterr().out
    assert "Zhang.Wei" in out and "赵审计" not in out
    call_command("audit", "list", "--actor", "钱")
    assert capsys.readouterr().out == ""
    call_command("audit", "list", "--action", "export", "--full")
    out = capsys.readouterr().out
    assert numbers[-1] in out and "--full" not in out


def test_by_actor_matches_as_a_substring_of_the_name_would(user):
    """``selectors.by_actor`` finds the names first (a skip scan of the trail's distinct names)
    and the entries by name: the same entries a case-insensitive substring test of every
    entry's name finds, for any piece of any name, a name that is not there, and a name with
    LIKE's own wildcards in it."""
    from xinfang.audit.selectors import actor_names, by_actor

    for name in ("赵审计", "Zhang.Wei", "zhang_wei", "100%张", "", "赵审计"):
        audit_record(action=audit.LOGIN, actor_name=name)
    audit_record(action=audit.LOGIN, actor=user)
    names = actor_names()
    assert sorted(names) == sorted(set(AuditEntry.objects.values_list("actor_name", flat=True)))
    assert len(names) == len(set(names)) == 5
    entries = AuditEntry.objects.order_by("-id")
    for text in ("审计", "赵", "ZHANG", "g_w", "g.w", "_", "%", "100%", "钱", "Zhang.Wei"):
        expected = list(entries.filter(actor_name__icontains=text).values_list("id", flat=True))
        assert list(by_actor(entries, text).values_list("id", flat=True)) == expected, text


def test_by_actor_falls_back_to_the_substring_test_past_its_bounds(user, monkeypatch):
    """A spray of made-up usernames (each failed sign-in records the name typed) cannot make
    the names' skip scan as long as the trail: past ``NAMES_READ`` names, or a text matching
    more than ``NAMES_MATCHED``, the filter tests each entry's name as before — same entries."""
    from xinfang.audit import selectors

    for name in ("赵审计", "钱审计", "孙审计", "admin1", "admin2"):
        audit_record(action=audit.LOGIN_FAILED, actor_name=name)
    entries = AuditEntry.objects.order_by("-id")
    expected = list(entries.filter(actor_name__icontains="审计").values_list("id", flat=True))
    assert len(selectors.actor_names()) == 5
    for bound, value in (("NAMES_READ", 4), ("NAMES_MATCHED", 2)):
        with monkeypatch.context() as m:
            m.setattr(selectors, bound, value)
            assert selectors.actor_names() is None or bound == "NAMES_MATCHED"
            qs = selectors.by_actor(entries, "审计")
            assert "IN (" not in str(qs.query), bound
            assert list(qs.values_list("id", flat=True)) == expected, bound


def test_the_actor_names_are_kept_and_brought_up_to_date(user):
    """The names are scanned once and kept with the newest entry: later filters read only the
    entries appended since, so a new actor is found at once; a trail whose kept entry is not
    there as it was (a restore, a prune) is scanned again."""
    from django.test.utils import CaptureQueriesContext

    from xinfang.audit import selectors

    audit_record(action=audit.LOGIN, actor=user)
    entries = AuditEntry.objects.order_by("-id")
    assert by_ids(selectors.by_actor(entries, "审计"))
    audit_record(action=audit.LOGIN, actor_name="钱新人")
    with CaptureQueriesContext(connection) as ctx:
        found = by_ids(selectors.by_actor(entries, "新人"))
    assert found == by_ids(entries.filter(actor_name="钱新人")) and len(found) == 1
    assert not any("RECURSIVE" in q["sql"] for q in ctx.captured_queries)
    # the kept entry rewritten (as a restored trail's differs): scanned again
    head_id, _hash, names = selectors._known["default"]
    selectors._known["default"] = (head_id, "0" * 64, frozenset())
    with CaptureQueriesContext(connection) as ctx:
        assert by_ids(selectors.by_actor(entries, "新人")) == found
    assert any("RECURSIVE" in q["sql"] for q in ctx.captured_queries)


def by_ids(qs) -> list[int]:
    return list(qs.values_list("id", flat=True))


def test_the_trail_by_actor_is_read_off_its_index(user):
    """An actor's entries are looked up by name off ``audit_actor_newest``, not by a test of
    every entry of the trail (225 ms for a rare actor at two million entries; lead50)."""
    from xinfang.audit.selectors import by_actor

    for i in range(30):
        audit_record(action=audit.LOGIN, actor_name=f"用户{i}")
    qs = by_actor(AuditEntry.objects.order_by("-id"), "用户7")
    # and an actor's entries of one action are counted off it alone (the action rides along)
    counted = qs.filter(action=audit.LOGIN).order_by().values("pk")[:10001]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
        if connection.vendor == "postgresql":  # thirty rows: the planner would read them all
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan, count_plan = qs[:50].explain(), counted.explain()
    assert "audit_actor_newest" in plan, plan
    assert re.search(r"Index Only Scan using audit_actor_newest|COVERING INDEX "
                     r"audit_actor_newest", count_plan), count_plan


def test_the_background_check_names_an_altered_entry(five, jianan):
    """The job the auditor's page starts for a long trail (``jobs.kinds.audit_verify``) says
    what ``audit verify`` says: here an entry rewritten under the table's owner."""
    from xinfang.jobs.kinds import audit_verify as verify_job

    raw_update(f"UPDATE {TABLE} SET actor_name = %s WHERE id = %s", ["别人", five[2].pk])
    told = []
    out = verify_job(params={}, by=jianan.member("auditor"),
                     progress=lambda *args: told.append(args))
    assert out.message.startswith("审计链被破坏") and f"#{five[2].pk}" in out.message
    assert "审计链：被破坏" in out.data.decode()
    assert told[0] == (0, None, "正在校验审计链") and told[1] == (0, AuditEntry.objects.count())


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


# -- the six tamperings of the attack (issue 8) ---------------------------------------------------


def recompute_chain(cursor, *, sealed_as: str = "") -> None:
    """The attacker without the MAC key: rewrite every entry's hash (and link) with what they can
    compute — SHA-256, or an HMAC under a key of their own — so the chain links up again."""
    import hashlib
    import hmac

    prev = GENESIS
    for e in AuditEntry.objects.order_by("id"):
        fields = dict(prev_hash=prev, at=e.at, actor_id=e.actor_id, actor_name=e.actor_name,
                      action=e.action, object_type=e.object_type, object_id=e.object_id,
                      detail=e.detail, ip=e.ip)
        if sealed_as:
            forged = hmac.new(b"attacker's own key", json.dumps(
                [str(v) for v in fields.values()]).encode(), hashlib.sha256).hexdigest()
        else:
            forged = entry_hash(**fields)
        cursor.execute(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s, mac_key_id = %s "
                       f"WHERE id = %s", [prev, forged, sealed_as, e.pk])
        prev = forged


@pytest.fixture
def checkpoints(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "offsite" / "audit-checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


def test_tail_deletion_is_caught_by_the_checkpoint(five, checkpoints):
    # given a checkpoint of the head, shipped off the machine
    checkpoint_write()
    assert checkpoint_verify().ok

    # when the newest two entries are deleted with the trigger dropped
    raw_update(f"DELETE FROM {TABLE} WHERE id >= %s", [five[3].pk])

    # then the shorter chain still links up, but the checkpoint says it was longer
    assert audit_verify().ok
    result = checkpoint_verify()
    assert not result.ok and "末尾的记录被删除" in result.message
    with pytest.raises(CommandError, match="检查点核对失败"):
        call_command("audit", "verify")


def test_entries_appended_after_a_checkpoint_pass(five, checkpoints, user):
    checkpoint_write()
    audit_record(action=audit.LOGIN, actor=user)

    assert checkpoint_verify().ok


@pytest.mark.parametrize("sealed_as", ["", "m1"], ids=["as-sha256", "under-a-guessed-key"])
def test_edit_and_full_recomputation_without_the_mac_key_is_caught(five, sealed_as):
    # given the trigger dropped, an entry edited and every hash after it recomputed
    with triggers_off() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET detail = %s WHERE id = %s",
                       ['{"rows": 1}', five[2].pk])
        recompute_chain(cursor, sealed_as=sealed_as)

    # then the chain links up, but the MACs do not verify
    result = audit_verify()
    assert not result.ok and result.first_bad_id == five[0].pk
    with pytest.raises(CommandError, match="审计链校验失败"):
        call_command("audit", "verify")


def test_unsealed_entries_are_accepted_only_from_before_sealing_began(user):
    # an entry from before the upgrade (plain SHA-256, dated before the MAC key existed) is fine
    old_at = get_keyring().sealing_began() - timedelta(days=30)
    fields = dict(prev_hash=GENESIS, at=old_at, actor_id=user.pk, actor_name="赵审计",
                  action="login", object_type="", object_id="", detail={}, ip="")
    AuditEntry.objects.create(hash=entry_hash(**fields), mac_key_id="", **fields)
    audit_record(action=audit.LOGIN, actor=user)

    result = audit_verify()
    assert result.ok and result.unsealed == 1

    # but a recomputed chain passing itself off as unsealed is not
    with triggers_off() as cursor:
        recompute_chain(cursor)
    assert not audit_verify().ok


# -- case history ---------------------------------------------------------------------------------


@pytest.fixture
def walked(jianan, register):
    """A case with four events in its history, and one more case beside it."""
    case = register()
    perform("propose", case=case, by=jianan.member("clerk"), proposal="交将官池镇")
    register()
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert len(events) >= 2
    return case, events


def test_each_event_is_sealed_and_chained_per_case(walked):
    case, events = walked
    assert all(e.mac and e.mac_key_id for e in events)
    result = history_verify()
    assert result.ok and result.cases == 2
    assert result.head_id == CaseEvent.objects.order_by("-id").first().pk


def test_the_database_refuses_to_delete_history_even_on_sqlite(walked):
    _, events = walked
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {HISTORY} WHERE id = %s", [events[-1].pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {HISTORY} SET type = 'x' WHERE id = %s", [events[0].pk])


def test_deleted_history_rows_are_caught(walked):
    _, events = walked
    with triggers_off(HISTORY) as cursor:
        cursor.execute(f"DELETE FROM {HISTORY} WHERE id = %s", [events[0].pk])

    result = history_verify()
    assert not result.ok and "删除" in result.message
    with pytest.raises(CommandError, match="办理记录校验失败"):
        call_command("audit", "verify")


def test_deleting_a_case_s_newest_events_is_caught_by_the_checkpoint(walked, checkpoints):
    case, events = walked
    checkpoint_write()
    newest = CaseEvent.objects.order_by("-id").first()

    with triggers_off(HISTORY) as cursor:
        cursor.execute(f"DELETE FROM {HISTORY} WHERE id = %s", [newest.pk])

    assert history_verify().ok  # what is left still links up
    result = checkpoint_verify()
    assert not result.ok and "办理记录" in result.message


def test_history_edited_with_the_trigger_dropped_is_caught(walked):
    _, events = walked
    with triggers_off(HISTORY) as cursor:
        cursor.execute(f"UPDATE {HISTORY} SET payload = %s WHERE id = %s",
                       ['{"forged": true}', events[1].pk])

    result = history_verify()
    assert not result.ok and result.first_bad_id == events[1].pk


# -- the checkpoint file itself -------------------------------------------------------------------


def test_a_checkpoint_line_altered_or_removed_is_caught(five, checkpoints, user):
    checkpoint_write()
    audit_record(action=audit.LOGIN, actor=user)
    checkpoint_write()
    audit_record(action=audit.LOGIN, actor=user)
    checkpoint_write()
    lines = checkpoints.read_text().splitlines()
    assert checkpoints.stat().st_mode & 0o777 == 0o600

    # lowering a recorded count (to hide a deletion) breaks the line's signature
    forged = json.loads(lines[2])
    forged["audit"]["total"] -= 1
    checkpoints.write_text("\n".join([*lines[:2], json.dumps(forged)]) + "\n")
    assert "签名不符" in checkpoint_verify().message

    # dropping a line from the middle breaks the link to the line before
    checkpoints.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert "不衔接" in checkpoint_verify().message


def test_verify_checks_a_shipped_copy(five, checkpoints, tmp_path, capsys):
    checkpoint_write()
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(checkpoints.read_bytes())
    checkpoints.unlink()  # the attacker removes the local file...
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [five[-1].pk])

    with pytest.raises(CommandError, match="末尾的记录被删除"):  # ...the copy remembers
        call_command("audit", "verify", "--checkpoints", str(copy))


@pytest.mark.parametrize("given", ["mistyped", "a directory"])
def test_a_shipped_copy_that_is_not_a_file_fails_the_verify_naming_the_argument(
        five, checkpoints, tmp_path, given):
    # given the local file removed and the newest entry cut: a chain that still links up
    checkpoint_write()
    checkpoints.unlink()
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [AuditEntry.objects.latest("pk").pk])
    assert audit_verify().ok
    copy = tmp_path / "copy.jsnol" if given == "mistyped" else tmp_path

    # when the copy's path is mistyped (or names its folder), the verify cannot pass: it would
    # have read no checkpoint at all and said the trail was whole
    with pytest.raises(CommandError, match="--checkpoints"):
        call_command("audit", "verify", "--checkpoints", str(copy))


def test_checkpoint_command_and_prune_keep_checkpoints_valid(user, checkpoints, capsys):
    now = timezone.now()
    for days in (400, 300, 10):
        audit_record(action=audit.LOGIN, actor=user, at=now - timedelta(days=days))
    call_command("audit", "checkpoint")
    assert "已写入检查点" in capsys.readouterr().out

    audit_prune(now - timedelta(days=200))  # two fewer rows, legitimately

    assert checkpoint_verify().ok
    call_command("audit", "verify")
    assert "核对无误" in capsys.readouterr().out


def test_sweep_writes_a_checkpoint(walked, checkpoints):
    call_command("sweep", "--at", "2026-09-20T08:00+08:00")

    line = json.loads(checkpoints.read_text().splitlines()[-1])
    assert line["history"]["count"] == CaseEvent.objects.count()
    assert checkpoint_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkpoint_writers_keep_the_file_a_chain(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    audit_record(action=audit.LOGIN, actor_name="并发")
    errors = []

    def write():
        try:
            for _ in range(5):
                checkpoint_write()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    result = checkpoint_verify()
    assert result.ok and result.checked == 20


def test_history_seals_what_the_database_hands_back(walked, jianan):
    from xinfang.cases.services.base import append_event

    case, _ = walked
    append_event(case=case, type="note", by=jianan.member("clerk"), at=timezone.now(),
                 payload={"ratio": 0.1, "whole": 2.0, "big": 1e20, "nested": [{"b": 1, "a": "甲"}],
                          "z": None, "ok": True, 3: "int key"})

    assert history_verify().ok


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_checkpoint_file_deleted_or_emptied_is_reported(five, checkpoints, how):
    checkpoint_write()
    assert AuditEntry.objects.filter(action=audit.CHECKPOINT_FILE_STARTED).count() == 1
    checkpoint_write()
    assert AuditEntry.objects.filter(action=audit.CHECKPOINT_FILE_STARTED).count() == 1

    if how == "deleted":
        checkpoints.unlink()
    else:
        checkpoints.write_text("")

    result = checkpoint_verify()
    assert not result.ok and "删除或清空" in result.message


def test_the_auditor_s_page_shows_a_cut_off_tail(jianan, five, checkpoints):
    from django.test import Client
    from django.urls import reverse

    checkpoint_write()
    raw_update(f"DELETE FROM {TABLE} WHERE id = %s", [five[-1].pk])
    client = Client()
    client.force_login(jianan.member("auditor").user)

    html = client.get(reverse("web:audit_log"), {"verify": "1"}).content.decode()

    assert "检查点核对失败" in html.split('id="checkpoint-result"', 1)[1]


# -- the list's brief of a long detail (lead49) ----------------------------------------------------


def test_a_long_list_is_briefed_and_verify_checks_the_brief_against_the_detail(user):
    """An export's case numbers are kept whole in the (MAC-covered) detail; the trail's list
    reads a brief of them (``AuditEntry.brief``), which is not under the MAC. Verification
    checks it against the detail: a brief rewritten to show another count, or added to an
    entry with no long list, names the entry."""
    numbers = [f"建安{n:05d}" for n in range(300)]
    entry = audit_record(action=audit.EXPORT, actor=user, detail={"rows": 300, "cases": numbers})
    short = audit_record(action=audit.EXPORT, actor=user, detail={"rows": 3})
    entry.refresh_from_db()
    assert entry.brief == {"detail": {"rows": 300, "cases": numbers[:20]}, "cut": {"cases": 300}}
    assert AuditEntry.objects.get(pk=short.pk).brief is None
    assert audit_verify().ok

    lying = {"detail": {"rows": 3, "cases": numbers[:20]}, "cut": {"cases": 3}}
    raw_update(f"UPDATE {TABLE} SET brief = %s WHERE id = %s",
               [json.dumps(lying, ensure_ascii=False), entry.pk])
    result = audit_verify()
    assert not result.ok and result.first_bad_id == entry.pk and "摘要" in result.message


def test_a_brief_added_to_an_entry_without_a_long_list_is_caught(user):
    short = audit_record(action=audit.EXPORT, actor=user, detail={"rows": 3})
    raw_update(f"UPDATE {TABLE} SET brief = %s WHERE id = %s",
               ['{"detail": {"rows": 300}, "cut": {}}', short.pk])
    assert audit_verify().first_bad_id == short.pk


@pytest.mark.parametrize("limit", ["99999999999999999999999", "-1x", "100001"])
def test_a_limit_no_listing_holds_is_an_error_naming_it(five, limit):
    # past 64 bits the database refused the number ("datatype mismatch"): a traceback
    with pytest.raises(CommandError, match="--limit"):
        call_command("audit", "list", "--limit", limit)
