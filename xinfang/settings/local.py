"""Development and the embedded demo (`make run`)."""

import os
import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = os.environ.get("XINFANG_DEBUG", "1") == "1"
XINFANG_KEY_AUTOCREATE = True
# The demo serves static files straight from the apps, DEBUG on or off (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT: collectstatic's, if run


def _local_secret_key() -> str:
    # One random key per installation, kept beside the database, never in the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("XINFANG_SECRET_KEY") or _local_secret_key()
