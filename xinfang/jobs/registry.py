"""Which background jobs exist: ``settings.XINFANG_JOBS`` maps a kind to the dotted path of its
function and the Chinese label a person sees. A job function is called by the worker as

    fn(*, params: dict, by: Membership | None, progress: Progress) -> Output | None

``progress(done, total)`` records how far it is (the page and the API poll it); the ``Output``
is the file it made, kept on the job row for the person who started it to download. Another app
adds a kind by naming its function in the setting; nothing here needs to change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass
class Output:
    filename: str
    content_type: str
    data: bytes
    message: str = ""
    # the cases a ledger file holds: its download checks each is still in its reader's door
    case_ids: list[int] | None = None


Progress = Callable[..., None]


# Kinds the system starts by itself (a PDF conversion after an issue): nobody starts them by hand.
INTERNAL_KINDS = frozenset({"pdf"})


def kinds() -> dict[str, tuple[str, str]]:
    return dict(getattr(settings, "XINFANG_JOBS", {}))


def job_function(kind: str) -> Callable:
    return import_string(kinds()[kind][0])


def job_label(kind: str) -> str:
    return kinds()[kind][1]


def periodic() -> dict[str, tuple[str, float]]:
    """``settings.XINFANG_PERIODIC``: name → (dotted path of a function taking no argument and
    returning something JSON-serialisable, interval in seconds)."""
    return {
        name: (path, float(interval))
        for name, (path, interval) in getattr(settings, "XINFANG_PERIODIC", {}).items()
    }
