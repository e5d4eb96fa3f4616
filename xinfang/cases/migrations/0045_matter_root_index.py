"""A matter's visits off one index, and any repeat left without its matter given one.

National §36 asks, at each proposal of a repeat, for every visit of its matter: the first visit
and the repeats that keep it as ``matter_root``. The index on ``(matter_root, id)`` answers that
from the index alone, where the foreign key's own index sent PostgreSQL to each visit's row (a
matter of 180 visits, 181 pages read at 1M cases); it replaces that index.

Then the repeats migration 0044 could miss: one the old code registered after 0044 ran and
before the web server restarted keeps no root (docs/operations.md §6). Each is given the root of
the chain it repeats, and a later repeat that took it for its root is given the same. On a
database upgraded with the server stopped there are none: one scan of ``cases_case`` finds that.
"""

import django.db.models.deletion
from django.db import migrations, models

# The repeats with no root, each walked up its ``repeat_of`` chain to the first visit, or to the
# first ancestor that keeps its root: (repeat, its matter's first visit).
ORPHANS = """
WITH RECURSIVE up(id, at) AS (
    SELECT id, repeat_of_id FROM cases_case
    WHERE repeat_of_id IS NOT NULL AND matter_root_id IS NULL
    UNION ALL
    SELECT up.id, p.repeat_of_id FROM up JOIN cases_case p ON p.id = up.at
    WHERE p.repeat_of_id IS NOT NULL AND p.matter_root_id IS NULL
)
SELECT up.id, COALESCE(p.matter_root_id, p.id) FROM up JOIN cases_case p ON p.id = up.at
WHERE p.repeat_of_id IS NULL OR p.matter_root_id IS NOT NULL
"""


def drop_key_index(apps, schema_editor):
    """The foreign key's own index, by what the database says it is named. Dropped, not altered
    away: SQLite alters a field by copying the table, and the copy would lose the indexes its
    migrations made in SQL (0036's due order, 0038's wider received index)."""
    case = apps.get_model("cases", "Case")
    names = schema_editor._constraint_names(case, ["matter_root_id"], index=True)
    for name in names:
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def make_key_index(apps, schema_editor):
    case = apps.get_model("cases", "Case")
    schema_editor.execute(schema_editor._create_index_sql(
        case, fields=[case._meta.get_field("matter_root")]))


def heal(apps, schema_editor):
    heal_roots(schema_editor.connection)


def heal_roots(connection):
    with connection.cursor() as cursor:
        cursor.execute(ORPHANS)
        roots = cursor.fetchall()
        for orphan, root in roots:
            cursor.execute("UPDATE cases_case SET matter_root_id = %s "
                           "WHERE id = %s OR matter_root_id = %s", [root, orphan, orphan])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0044_case_matter_root"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(
                model_name="case",
                name="matter_root",
                field=models.ForeignKey(blank=True, db_index=False, null=True,
                                        on_delete=django.db.models.deletion.PROTECT,
                                        related_name="+", to="cases.case",
                                        verbose_name="初次信访件"),
            )],
            database_operations=[
                migrations.RunPython(drop_key_index, make_key_index, elidable=False)],
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["matter_root", "id"], name="case_matter_root_id"),
        ),
        migrations.RunPython(heal, migrations.RunPython.noop, elidable=False),
    ]
