"""Pages and answers that show a person are never kept by the browser: an office's PC is shared,
and a page in the browser's cache (or its back button) outlives the clerk's sign-out."""

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def _not_kept(response) -> bool:
    said = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= said


def test_the_queue_the_ledger_and_the_api_showing_a_petitioner_are_never_cached(jianan, register):
    case = register()
    client = signed_in(jianan.member("clerk"))
    for url in (reverse("web:home"), reverse("web:ledger"), f"/api/cases/{case.pk}/",
                "/api/cases/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "张" in response.content.decode(), url  # the petitioner, masked or not
        assert _not_kept(response), (url, response.get("Cache-Control"))


def test_a_view_that_says_how_it_is_cached_keeps_its_own_words(jianan):
    # the login page says ``never_cache`` itself; the default does not pile onto it
    response = Client().get(reverse("web:login"))
    assert _not_kept(response)
    assert response["Cache-Control"].count("no-store") == 1
