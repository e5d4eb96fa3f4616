"""Audit migration 0008: the trail's ``hash`` keeps its unique index and loses, on PostgreSQL,
the ``varchar_pattern_ops`` twin Django made beside it (no query asks a hash by prefix; each
append wrote it at a random place): dropped online, built again when reversed."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from tests.cases.test_online_index import _indexes, _migrate
from xinfang.audit import services as audit
from xinfang.audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

TWIN = "audit_auditentry_hash_718ebbcd_like"
BEFORE = [("audit", "0007_audit_actor_newest")]
ITSELF = [("audit", "0008_no_pattern_index_on_hash")]


def test_the_hash_loses_its_pattern_twin_online_and_gets_it_back_when_reversed():
    postgres = connection.vendor == "postgresql"
    assert TWIN not in _indexes()
    try:
        with CaptureQueriesContext(connection) as back:
            MigrationExecutor(connection).migrate(BEFORE)
        assert (TWIN in _indexes()) is postgres  # SQLite never had it
        with CaptureQueriesContext(connection) as forth:
            MigrationExecutor(connection).migrate(ITSELF)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert TWIN not in _indexes()
    drops = [q["sql"] for q in forth.captured_queries if q["sql"].startswith("DROP INDEX")]
    builds = [q["sql"] for q in back.captured_queries if TWIN in q["sql"]]
    assert drops == ([f'DROP INDEX CONCURRENTLY IF EXISTS "{TWIN}"'] if postgres else [])
    assert len(builds) == postgres and all("varchar_pattern_ops" in sql for sql in builds)


def test_two_entries_still_cannot_share_a_hash():
    entry = audit.audit_record(action="login", actor_name="甲")
    twin = AuditEntry.objects.filter(pk=entry.pk).values(
        "at", "actor_name", "action", "object_type", "object_id", "detail", "ip", "mac_key_id",
        "hash").get()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(prev_hash="f" * 64, **twin)


def test_the_plan_says_why_the_twin_goes():
    from xinfang.cases.online_index import DropFieldIndex

    said = DropFieldIndex("auditentry", "hash", like_only=True).describe()
    assert "prefix" in said and "composite" not in said
    assert "composite" in DropFieldIndex("case", "state").describe()
