"""The language a request is answered in, made active for the request.

Every page speaks ``settings.LANGUAGE_CODE`` (zh-Hans, settings ``LANGUAGE_CODE``: no browser's
Accept-Language switches it while English has no catalogue), so nothing activates a language and
Django's ``gettext`` finds none active on each call: asgiref's ``Local`` raises and catches an
``AttributeError`` before the default is used — 3.9 µs a call against 2.6 µs with the language
active. A case page translates about 160 labels (its sections, forms, the history's event names):
0.51 ms of its 14.5 ms at 1M cases on PostgreSQL, 0.48 of 10.4 on SQLite, each call timed beside
one without this middleware (``bench/paired.py``; PERFORMANCE.md, lead54).

When an English catalogue is offered, Django's ``LocaleMiddleware`` (which activates the language
it negotiates) takes this one's place.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class ActiveLanguageMiddleware:
    """Activates ``settings.LANGUAGE_CODE`` for the request and deactivates it after: the thread
    then answers in the language it answered in before (the default). A language made active
    around the request already (a test's ``translation.override("en")``) is left alone."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if translation.get_language() != settings.LANGUAGE_CODE:
            return self.get_response(request)
        translation.activate(settings.LANGUAGE_CODE)
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
