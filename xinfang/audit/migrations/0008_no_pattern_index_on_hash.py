"""No pattern index on the trail's hashes (PostgreSQL).

Django gives a unique ``CharField`` on PostgreSQL a second index with ``varchar_pattern_ops``,
for ``LIKE 'abc%'``; nothing asks the trail's ``hash`` that way (the checkpoints read entries by
id, the chain's head by id). An entry's hash is an HMAC, so every append — each case read, each
sign-in, each export — put a key at a random place of that index (as it does in the unique
``hash`` and ``prev_hash`` ones), and the first time after each checkpoint wrote that page whole
to the WAL: 17.3 kB of WAL an append at 4.2 million entries against 13.9 kB without it, and
379 MB of index (1M cases, lead53). The unique index itself stays.

Non-atomic: PostgreSQL drops it ``CONCURRENTLY``, so appends to the trail are not held up;
reversed, it is built again under the name Django gave it. SQLite never had it.
"""

from django.db import migrations

from xinfang.cases.online_index import DropFieldIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0007_audit_actor_newest"),
    ]

    operations = [
        DropFieldIndex("auditentry", "hash", like_only=True),
    ]
