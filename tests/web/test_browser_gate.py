"""Without Debian's Chromium the browser tests skip on a developer's machine and fail in CI."""

import pytest

from . import test_browser


def test_a_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(test_browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        test_browser.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        test_browser.require_chromium()
