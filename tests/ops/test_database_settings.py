"""The product's PostgreSQL connections: JIT off for every statement (settings.base)."""

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
