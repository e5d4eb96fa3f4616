"""Production: PostgreSQL via DATABASE_URL, secrets from the environment, HTTPS cookies."""

import os

from .base import *  # noqa: F403

SECRET_KEY = os.environ["XINFANG_SECRET_KEY"]
ALLOWED_HOSTS = [h for h in os.environ.get("XINFANG_ALLOWED_HOSTS", "").split(",") if h]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
