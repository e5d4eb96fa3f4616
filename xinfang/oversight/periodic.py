"""The schedule's entry (``settings.XINFANG_PERIODIC["oversight"]``): flag the supervision orders
and rectification requests still unanswered past their due instant."""

from __future__ import annotations

from django.utils import timezone


def sweep() -> dict:
    from .services import oversight_sweep

    return oversight_sweep(at=timezone.now())
