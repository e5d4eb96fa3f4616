"""One answer per question while a page is read: the case page asks ``available()`` about every
transition, and each asks again whether this unit holds an active assignment, whether it is the
respondent's side, whether the user recused — the same few questions, each a query, several
times over. Inside ``reading()`` each answer is kept for the rest of the block. A block holds
no write: the services never run inside it, so nothing it keeps can go stale."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TypeVar

from django.db.models import Model

_memo: ContextVar[dict | None] = ContextVar("xinfang_read_memo", default=None)
F = TypeVar("F", bound=Callable)


@contextmanager
def reading():
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _key(value):
    if isinstance(value, Model):
        return (type(value).__name__, value.pk)
    return value


def memoised(fn: F) -> F:
    """Answer from the block's memory inside ``reading()``; outside it, ask every time."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        memo = _memo.get()
        if memo is None:
            return fn(*args, **kwargs)
        key = (
            fn.__module__,
            fn.__qualname__,
            tuple(_key(a) for a in args),
            tuple(sorted((k, _key(v)) for k, v in kwargs.items())),
        )
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        return memo[key]

    return wrapper  # type: ignore[return-value]


def prefetched(instance: Model, name: str) -> list | None:
    """The rows of ``instance.<name>`` a ``prefetch_related`` of this request read, or None when
    none did: a check that a page makes after reading a relation whole need not ask again."""
    cached = getattr(instance, "_prefetched_objects_cache", {}).get(name)
    return None if cached is None else list(cached)
