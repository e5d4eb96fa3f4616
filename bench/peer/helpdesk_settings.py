"""Minimal, local settings for django-helpdesk 2.6.1 as the benchmark's peer: no e-mail, no
webhooks, no CDN, no outside calls. The database comes from ``HELPDESK_BENCH_DB``
(``sqlite:<path>`` or ``postgres://…/bench_helpdesk``)."""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

SECRET_KEY = "bench-peer-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "helpdesk_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = Path(os.environ.get("HELPDESK_BENCH_DIR", tempfile.gettempdir())) / "helpdesk-media"
HELPDESK_USE_CDN = False
HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams: the minimal install
HELPDESK_ENABLE_ATTACHMENTS = False
HELPDESK_GET_NEW_TICKET_WEBHOOK_URLS = lambda: []  # noqa: E731
HELPDESK_GET_FOLLOWUP_WEBHOOK_URLS = lambda: []  # noqa: E731
LOGIN_URL = "/login/"

_url = os.environ.get("HELPDESK_BENCH_DB",
                      f"sqlite:{Path(tempfile.gettempdir()) / 'helpdesk.sqlite3'}")
if _url.startswith("sqlite:"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": _url.removeprefix("sqlite:"),
                             "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; "
                                                         "PRAGMA synchronous=NORMAL;"}}}
else:
    _p = urlparse(_url)
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql",
                             "NAME": _p.path.lstrip("/"), "USER": _p.username or "",
                             "HOST": _p.hostname or "", "PORT": str(_p.port or ""),
                             "CONN_MAX_AGE": None}}
