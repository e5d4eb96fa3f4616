"""Two requests at once on PostgreSQL, made deterministic: the first runs inside a transaction it
holds open; the second starts while it is held, and the first commits only once the second waits
on a lock or has finished. ``race`` answers what each returned or raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction


def _waiting() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity"
                       " WHERE wait_event_type = 'Lock' AND datname = current_database()")
        return bool(cursor.fetchone()[0])


def race(first: Callable, second: Callable, *, timeout: float = 30) -> dict:
    """{"first": result or exception, "second": …, "second_waited": bool}."""
    held, release = threading.Event(), threading.Event()
    out: dict = {}

    def run(name: str, call: Callable, hold: bool) -> None:
        try:
            with transaction.atomic():
                out[name] = call()
                if hold:
                    held.set()
                    release.wait(timeout)
        except Exception as e:  # noqa: BLE001 - the caller asserts on it
            out[name] = e
        finally:
            held.set()
            connection.close()

    a = threading.Thread(target=run, args=("first", first, True))
    a.start()
    assert held.wait(timeout)
    b = threading.Thread(target=run, args=("second", second, False))
    b.start()
    out["second_waited"] = False
    deadline = time.monotonic() + timeout
    while b.is_alive() and time.monotonic() < deadline:
        if _waiting():
            out["second_waited"] = True
            break
        time.sleep(0.05)
    release.set()
    a.join(timeout)
    b.join(timeout)
    return out
