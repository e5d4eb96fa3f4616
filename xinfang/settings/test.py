"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL is set (CI)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
_tmp = Path(tempfile.mkdtemp(prefix="xinfang-test-"))
XINFANG_KEY_FILE = _tmp / "keys.json"
XINFANG_KEY_AUTOCREATE = True
ATTACHMENT_ROOT = _tmp / "attachments"
MEDIA_ROOT = _tmp / "media"
# Tests that check checkpoints name a file of their own; one shared file would outlive each test's
# rolled-back database.
AUDIT_CHECKPOINT_FILE = None
AUDIT_ARCHIVE_DIR = _tmp / "audit-archive"
XINFANG_JOB_PROGRESS_DIR = _tmp / "jobs"
# Static files through WhiteNoise from the apps, as with DEBUG off in the demo.
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir()
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
ALLOWED_HOSTS = ["*"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if not os.environ.get("DATABASE_URL"):
    DATABASES["default"]["NAME"] = _tmp / "test.sqlite3"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(_tmp / "test-db.sqlite3")}  # noqa: F405

# A second alias on the same test database, as a streaming replica would be (tests of the read
# router turn XINFANG_READ_REPLICA on; by default every read stays on default).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405

# Documents: PDF conversion runs in a background thread after the commit; in tests it runs only
# where a test starts it (a thread outliving its test would race the next test's flush).
XINFANG_PDF_BACKGROUND = False
