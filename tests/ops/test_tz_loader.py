"""``xinfang.db.postgresql.TzLoader``: each ``timestamptz`` PostgreSQL sends is read as
Django's own loader reads it — the same instant, the same ``tzinfo`` — in any session time
zone, at any precision, near the ends of the range; what it cannot read (``infinity``, a
date BC, another ``DateStyle``) goes to Django's loader and fails or reads as it did."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from xinfang.db.postgresql.base import TzLoader

pytestmark = pytest.mark.django_db

TEXTS = ["2026-09-14 10:00:00+08", "2026-09-14 02:00:00.5+00", "2026-02-28 23:59:59.999999+00",
         "2026-09-14 02:00:00.000001-03:30", "1900-01-01 00:00:00+08:05:43",
         "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00", "2026-03-29 02:30:00+02"]


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's loader")


def _read(texts, *, djangos: bool, zone: str = "'UTC'", datestyle: str = "ISO, MDY"):
    """Each text cast to timestamptz and read back, by this connection's loader or by the
    one Django registers on a cursor; an error as its class."""
    out = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL TIME ZONE {zone}")
        cursor.execute(f"SET LOCAL DateStyle = '{datestyle}'")
        if djangos:
            register_tzloader(connection.timezone, cursor.cursor)
        for text in texts:
            try:
                cursor.execute("SELECT %s::timestamptz", [text])
                out.append(cursor.fetchone()[0])
            except Exception as e:  # the same failure, whichever loader
                out.append(type(e))
    return out


def test_the_connection_reads_timestamps_with_our_loader():
    postgres_only()
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert issubclass(loader, TzLoader) and loader.timezone == connection.timezone


# The last is a zone Python's zoneinfo cannot name (``<+05:30>-05:30``): psycopg then moves
# each instant to UTC, whatever offset PostgreSQL wrote it with.
@pytest.mark.parametrize("zone", ["'UTC'", "'Asia/Shanghai'", "'America/St_Johns'",
                                  "INTERVAL '+05:30' HOUR TO MINUTE"])
def test_each_value_is_djangos(zone):
    postgres_only()
    ours, theirs = _read(TEXTS, djangos=False, zone=zone), _read(TEXTS, djangos=True, zone=zone)
    assert ours == theirs
    assert [getattr(v, "tzinfo", None) for v in ours] == [
        getattr(v, "tzinfo", None) for v in theirs]
    # the session's zone is Django's (UTC): there, the instant itself
    assert zone != "'UTC'" or (ours[0].tzinfo is UTC and ours[0].hour == 2)


def test_what_iso_cannot_say_goes_to_djangos_loader():
    postgres_only()
    odd = ["infinity", "-infinity", "2000-01-01 00:00:00+00 BC"]
    assert _read(odd, djangos=False) == _read(odd, djangos=True)
    # another DateStyle: Django's loader refuses it, and so does the connection
    assert _read(TEXTS[:2], djangos=False, datestyle="SQL, DMY") == _read(
        TEXTS[:2], djangos=True, datestyle="SQL, DMY")


def test_a_psycopg_without_its_iso_parser_leaves_all_to_djangos_loader(monkeypatch):
    """Should a psycopg release rename what the loader reads of it, every value is read by
    Django's loader, not misread."""
    postgres_only()
    from psycopg.types.datetime import TimestamptzLoader

    djangos = datetime(2000, 1, 1, tzinfo=UTC)  # what the stand-in parser answers
    monkeypatch.delattr(TimestamptzLoader, "_load_iso")
    monkeypatch.setattr(TimestamptzLoader, "__init__", lambda self, oid, context=None: (
        setattr(self, "_load_method", lambda me, data: djangos), setattr(
            self, "_timezone", UTC)))
    assert _read(TEXTS[:1], djangos=False) == [djangos]
