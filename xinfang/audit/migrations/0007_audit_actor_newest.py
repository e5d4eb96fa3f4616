"""The trail by actor name, newest first (``audit_actor_newest``).

The auditor's filter by who acted matched ``actor_name`` as a substring of every entry: for a
rare actor (the province's inspector, a misspelt name) it read the whole trail, 225 ms at two
million entries (lead49). ``audit.selectors.by_actor`` now finds the trail's distinct names by
a skip scan of this index, matches the text against those few thousand names, and looks the
entries up by name here, newest first. The action rides along, so an actor's entries of one
action (their reads, their exports) are counted off the index alone: a busy clerk's reads,
counted to the pager's cap by a scan of the trail, took 82 ms at 4.2 million entries.

Non-atomic: PostgreSQL builds it ``CONCURRENTLY``, so appends to the trail are not held up.
"""

from django.db import migrations

from xinfang.cases.sqlite_only import index_by_database

ACTORS = "audit_actor_newest"
ACTORS_ON = f"{ACTORS} ON audit_auditentry (actor_name, id, action)"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0006_audit_lookups"),
    ]

    operations = [
        index_by_database(ACTORS, {
            "postgresql": f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {ACTORS_ON}",
            "sqlite": f"CREATE INDEX IF NOT EXISTS {ACTORS_ON}"}),
    ]
