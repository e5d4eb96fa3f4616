"""The connections a browser test's own ORM calls open beside Playwright are closed with it: left
open, the test database could not be dropped at the end of the run."""

import pytest
from django.db import connection

from tests.web.test_browser import playwright_session

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="sessions of a database are PostgreSQL's to list (pg_stat_activity)")
def test_a_connection_opened_while_playwright_runs_is_closed_with_it(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    outside = _backend_pid()
    # given an ORM call while Playwright's loop runs: a connection of that context's own
    with playwright_session():
        inside = _backend_pid()
    assert inside != outside
    # then, Playwright left, no session of that connection is left on the database
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        assert inside not in {pid for (pid,) in cursor.fetchall()}
