"""A category's demands by case: the ledger's category filter counted over a whole county, city
or province (``EXISTS`` a demand of the case with the category, to the count's cap) probed
``demand_case_category`` once a case — 94,500 probes for a city's count at 1M cases, 80–107 ms
on PostgreSQL. With the category first, the database reads the category's cases at once
(docs/PERFORMANCE.md, lead28).

Non-atomic: on PostgreSQL the index is built ``CONCURRENTLY``.
"""

from django.db import migrations, models

from xinfang.cases.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0039_pg_scoring_probes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="demand",
            index=models.Index(fields=["category", "case"], name="demand_category_case"),
        ),
    ]
