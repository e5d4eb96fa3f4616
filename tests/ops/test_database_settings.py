"""The product's PostgreSQL connections: JIT off for every statement, server-side cursors planned
for all their rows (settings.base)."""

import pytest
from django.db import connection

from xinfang.settings.base import database_from_url


def test_every_postgres_database_built_from_a_url_runs_without_jit():
    # production, the test suite, the replica and the benchmarks all build theirs here
    db = database_from_url("postgres://xinfang@127.0.0.1:5432/xinfang")
    assert "-c jit=off" in db["OPTIONS"]["options"]


@pytest.mark.django_db
def test_the_connection_has_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_environments_pgoptions_still_apply(monkeypatch):
    # libpq takes the connection's ``options`` instead of PGOPTIONS: an operator's settings
    # (a statement_timeout, say) are passed on after ours, and may override them.
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=5000")
    options = database_from_url("postgres://xinfang@127.0.0.1:5432/xinfang")["OPTIONS"]["options"]
    assert options == "-c jit=off -c cursor_tuple_fraction=1 -c statement_timeout=5000"


@pytest.mark.django_db
def test_a_server_side_cursor_is_planned_for_all_its_rows():
    # every ``iterator()`` of the product reads its cursor to the end (exports, L4, the audit's
    # walks): planned for the first tenth, a filtered L0 export took 10x longer (lead25)
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert float(cursor.fetchone()[0]) == 1.0
