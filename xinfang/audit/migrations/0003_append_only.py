"""The audit trail is append-only in the database itself.

- UPDATE is refused on both databases, from the ORM and from raw SQL alike.
- PostgreSQL also refuses DELETE, except inside a transaction that has set the transaction-local
  ``xinfang.audit_prune`` (``audit_prune`` does, for entries past retention). Django's test flush
  uses TRUNCATE there, which row triggers do not see. SQLite refuses UPDATE only: the test flush
  empties tables with DELETE.
- A unique index on ``prev_hash``: two entries can never chain onto the same predecessor, so a
  race between two writers fails (and ``audit_record`` retries) instead of forking the chain.

Whoever owns the database can still drop the triggers; the hash chain is what makes such an edit
visible (``xinfang audit verify``).
"""

from django.db import migrations

TABLE = "audit_auditentry"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                   AND coalesce(current_setting('xinfang.audit_prune', true), '') = 'on' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{TABLE} is append-only';
            END; $$ LANGUAGE plpgsql;
        """)
        schema_editor.execute(f"""
            CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();
        """)
    elif vendor == "sqlite":
        schema_editor.execute(f"""
            CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END;
        """)
    schema_editor.execute(f"CREATE UNIQUE INDEX {TABLE}_prev_hash_uniq ON {TABLE} (prev_hash)")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_prev_hash_uniq")
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
