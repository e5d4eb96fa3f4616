"""Production: PostgreSQL, secrets from the environment, DEBUG off, HTTPS behind a trusted proxy.

Used by ``make serve``, the systemd units in ``deploy/`` and ``xinfang/wsgi.py`` (its default).
Everything comes from the environment (``/etc/xinfang/env`` under systemd; docs/operations.md):

=============================  ===================================================================
``XINFANG_SECRET_KEY``         required; 50+ random characters (``xinfang keys`` does not make it:
                               ``python -c 'import secrets; print(secrets.token_urlsafe(50))'``)
``DATABASE_URL``               required; ``postgres://xinfang@127.0.0.1:5432/xinfang``
``XINFANG_ALLOWED_HOSTS``      required; the names the office types, comma-separated
``XINFANG_TRUSTED_PROXIES``    the TLS-terminating proxy's address(es), e.g. ``127.0.0.1,::1``
``XINFANG_HTTPS``              ``1`` (default): secure cookies, HTTPS redirect, HSTS; ``0`` only for
                               a closed test network without TLS (``check --deploy`` then warns)
``XINFANG_HSTS_SECONDS``       default one year; ``0`` while trying TLS out
``XINFANG_VAR_DIR``            where the static files, keys, cache and checkpoints live
=============================  ===================================================================

A missing required variable stops the process at start with its name — never a silent default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import VAR_DIR


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set: production settings need it (see docs/operations.md). "
            "For the demo use `make run` instead."
        )
    return value


DEBUG = False
SECRET_KEY = _required("XINFANG_SECRET_KEY")
_required("DATABASE_URL")  # base.py has read it; production never falls back to SQLite
ALLOWED_HOSTS = [h.strip() for h in _required("XINFANG_ALLOWED_HOSTS").split(",") if h.strip()]

HTTPS = os.environ.get("XINFANG_HTTPS", "1") != "0"
# The proxy terminating TLS says so in X-Forwarded-Proto; security.proxy removes that header from
# every request that did not come from XINFANG_TRUSTED_PROXIES, so it cannot be claimed directly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# The monitor may ask over plain HTTP on the loopback (docs/operations.md, monitoring).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Sent by Django on HTTPS responses only — i.e. where TLS terminated in front of us.
SECURE_HSTS_SECONDS = int(os.environ.get("XINFANG_HSTS_SECONDS", 31536000)) if HTTPS else 0
# includeSubDomains covers names *under* the server's own (a.xinfang.example), not its siblings.
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("XINFANG_HSTS_SUBDOMAINS", "1") == "1"
# Preloading is a decision about a whole public domain, taken by its owner at hstspreload.org,
# and impossible for an intranet name; the application cannot make it, so the check is silenced.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Static files: collected into var/static by `xinfang collectstatic` (make serve does it), served
# by WhiteNoise with far-future caching under content-hashed names.
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Keys are made once by the administrator (`xinfang keys create`), never on the fly.
XINFANG_KEY_AUTOCREATE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    # stderr → the journal under systemd (docs/operations.md: log rotation)
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINFANG_LOG_LEVEL", "WARNING")},
    "loggers": {
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
