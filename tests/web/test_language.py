"""The request's language made active while it is answered (``web.language``), and the thread
left answering in the language it answered in before."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import translation
from django.utils.translation import trans_real

from xinfang.web.language import ActiveLanguageMiddleware


def _active() -> str | None:
    """The language made active in this thread, None when Django falls back to the default."""
    value = getattr(trans_real._active, "value", None)
    return value.to_language() if value is not None else None


def _seen(raises: bool = False):
    seen = []

    def view(request):
        seen.append((_active(), translation.gettext("Yes")))
        if raises:
            raise RuntimeError("the view failed")
        return HttpResponse("ok")

    return ActiveLanguageMiddleware(view), seen


def test_the_default_language_is_active_while_answering_and_not_after():
    translation.deactivate()
    middleware, seen = _seen()
    middleware(RequestFactory().get("/"))
    assert seen == [(settings.LANGUAGE_CODE, "是")]
    assert _active() is None
    # nothing left active: a thread whose default changes answers in the new default
    with override_settings(LANGUAGE_CODE="en"):
        assert translation.get_language() == "en"


def test_a_failing_view_leaves_no_language_active():
    translation.deactivate()
    middleware, seen = _seen(raises=True)
    with pytest.raises(RuntimeError):
        middleware(RequestFactory().get("/"))
    assert seen[0][0] == settings.LANGUAGE_CODE and _active() is None


def test_a_language_active_around_the_request_is_left_alone():
    middleware, seen = _seen()
    with translation.override("en"):
        middleware(RequestFactory().get("/"))
        assert _active() == "en"
    assert seen == [("en", "Yes")]


def test_it_answers_every_page():
    names = settings.MIDDLEWARE
    ours = names.index("xinfang.web.language.ActiveLanguageMiddleware")
    # before the error pages and everything that renders or translates
    assert ours < names.index("xinfang.web.errors.ErrorPagesMiddleware")
