"""PostgreSQL: a two-character term (危房, 低保) has no trigram, so the trigram indexes of 0007
cannot answer it and the search read every case. Here each of number, matter and demand text gets
a GIN index over the set of its two-character pieces (``xf_bigrams(UPPER(…))``): a case contains
a two-character term exactly when the term is one of its pieces, so ``@> ARRAY[term]`` is the
whole test — no recheck of the text. SQLite gets nothing (its FTS5 tables are 0011's).

``xf_bigrams`` is an IMMUTABLE SQL function (the index expression must be); the query in
``xinfang.cases.search`` spells the same expression so the planner matches the index."""

from django.db import migrations

FUNCTION = (
    "CREATE OR REPLACE FUNCTION xf_bigrams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT ARRAY(SELECT DISTINCT substr(t, i, 2) "
    "FROM generate_series(1, char_length(t) - 1) AS i) $$"
)
INDEXES = [
    ("case_matter_bigram", "cases_case", "matter"),
    ("case_number_bigram", "cases_case", "number"),
    ("demand_text_bigram", "cases_demand", "text"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (xf_bigrams(UPPER({column}::text)))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS xf_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_lists2_search_fts")]

    operations = [migrations.RunPython(create, drop)]
