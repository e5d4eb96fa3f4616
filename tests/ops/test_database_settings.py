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


# -- a served worker's connection: kept between requests ---------------------------------------
# What Django does at the end of a request (``request_finished``) and before the next one
# (``request_started``) is ``close_if_unusable_or_obsolete``; the test client skips both, so the
# connection's life is tested here on a connection of its own.


@pytest.mark.django_db
def test_a_served_workers_sqlite_connection_outlives_its_request(tmp_path):
    # opened for every request, each page paid ~2 ms for its connection (lead48)
    from django.db.utils import ConnectionHandler

    from xinfang.settings.base import sqlite_database

    scratch = ConnectionHandler({"default": sqlite_database(tmp_path / "x.sqlite3")})["default"]
    try:
        with scratch.cursor() as cursor:
            cursor.execute("SELECT 1")
        kept = scratch.connection
        scratch.close_if_unusable_or_obsolete()  # the request ends
        scratch.close_if_unusable_or_obsolete()  # the next begins
        assert scratch.connection is kept
    finally:
        scratch.close()


@pytest.mark.django_db
def test_a_served_workers_postgres_connection_is_kept_and_replaced_once_dropped():
    # kept for the worker's life, so that its prepared statements keep their plans; a
    # connection the server ended while it idled is replaced before the next request uses it,
    # not reported to that request as an error
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connection")
    from django.db.utils import ConnectionHandler

    own = connection.settings_dict
    host, port = own["HOST"] or "127.0.0.1", own["PORT"] or 5432
    url = f"postgres://{own['USER']}@{host}:{port}/{own['NAME']}"
    scratch = ConnectionHandler({"default": database_from_url(url)})["default"]

    def backend() -> int:
        with scratch.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    try:
        first = backend()
        scratch.close_if_unusable_or_obsolete()  # the request ends: the connection stays
        scratch.close_if_unusable_or_obsolete()  # the next request begins
        assert backend() == first
        scratch.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:  # the server ends it while the worker idles
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        scratch.close_if_unusable_or_obsolete()  # the next request begins
        assert backend() != first
    finally:
        scratch.close()
