"""Settings shared by every environment.

The embedded default is SQLite under ``var/``; ``DATABASE_URL`` (postgres://user@host:port/name)
selects PostgreSQL, which production and CI use.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.utils.translation import gettext_lazy as _

from xinfang.security.filemodes import apply_umask

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("XINFANG_VAR_DIR", BASE_DIR / "var"))

# Everything this process creates — the SQLite database and its WAL files, caches, keys,
# attachments — is owner-only (0600 files, 0700 directories): xinfang/security/filemodes.py.
XINFANG_UMASK = apply_umask(os.environ.get("XINFANG_UMASK"))

SECRET_KEY = os.environ.get("XINFANG_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our own static (no CDN)
    "django_tasks",
    "django_tasks_db",
    "xinfang.org",
    "xinfang.rules",
    "xinfang.cases",
    "xinfang.registers",
    "xinfang.ledgers",
    "xinfang.reports",
    "xinfang.documents",
    "xinfang.notify",
    "xinfang.jobs",
    "xinfang.audit",
    "xinfang.security",
    "xinfang.web",
    "xinfang.api",
    "xinfang.demo",
    "xinfang.imports",
    "xinfang.integrations",
    "xinfang.matching",
    "xinfang.ownership",
    "xinfang.oversight",
    "xinfang.practices",
    "xinfang.figures",
    "xinfang.classify",
    "xinfang.scoring",
]

MIDDLEWARE = [
    # First: the client's real address and scheme, from a trusted proxy only (security/proxy.py).
    "xinfang.security.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files with DEBUG on or off, from STATIC_ROOT (collectstatic) or the apps (finders).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The one language every page speaks, active while a request is answered (web/language.py).
    "xinfang.web.language.ActiveLanguageMiddleware",
    "xinfang.web.errors.ErrorPagesMiddleware",
    "xinfang.security.auth.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xinfang.security.auth.IdleTimeoutMiddleware",
    "xinfang.security.gate.CredentialGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "xinfang.urls"
WSGI_APPLICATION = "xinfang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xinfang.notify.context.inbox",
            ],
        },
    },
]
# Django's widget templates, the plain widgets written in Python (xinfang.web.forms.renderer).
FORM_RENDERER = "xinfang.web.forms.renderer.QuickRenderer"


# Every connection of the product's runs without PostgreSQL's JIT. It compiles a statement whose
# *estimated* cost passes jit_above_cost, and the estimates of the door's and the figures'
# correlated probes pass it while their work takes milliseconds: 6.7 s of compilation for 0.2 s
# of work (the figures' recount), 5 s for 1 s (a unit score) — PERFORMANCE.md, sup9, scores17,
# plan10. Behind PgBouncer (which refuses an untracked ``-c`` in the startup packet) list
# ``options`` in its ignore_startup_parameters and set it on the role instead:
# ``ALTER ROLE xinfang SET jit = off`` (docs/PERFORMANCE.md, "How a province scales out").
# libpq lets this parameter replace the environment's PGOPTIONS, so those are passed on after it.
#
# A server-side cursor (``QuerySet.iterator()``: the exports, L4, the audit's walks, the backups)
# is planned for all its rows, not the first tenth PostgreSQL assumes by default: every cursor
# here is read to its end. For the first tenth the planner walked the ledger's order over the
# whole county and tested every case against a filter: an L0 export of a county's 600
# registered cases took 843 ms instead of 78, one of a month's 2,400 cases 3.2 s instead of 0.5
# (1M cases, lead25). Behind PgBouncer: ``ALTER ROLE xinfang SET cursor_tuple_fraction = 1``.
POSTGRES_OPTIONS = "-c jit=off -c cursor_tuple_fraction=1"
# Parameters bound by the server and each statement prepared on its connection at its second
# run: PostgreSQL then plans it for its first five executions and keeps one plan after them
# where that is not dearer, instead of planning it on every request — docs/decisions/
# 0004-prepared-statements.md (prepared at the sixth run until lead47). ``XINFANG_PG_PREPARE=0``
# turns it off (behind a pooler in transaction mode older than PgBouncer 1.21).
PREPARED_STATEMENTS = {"server_side_binding": True, "prepare_threshold": 1}


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r}; use postgres://")
    return {
        "ENGINE": "xinfang.db.postgresql",  # Django's, told the server-side parameter limit
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        # Kept for the worker's life (gunicorn replaces it after ``max_requests``), and checked
        # with one ``SELECT 1`` when a request first uses it, so a connection the server or a
        # firewall dropped while idle is replaced instead of failing that request. A statement is
        # prepared on its connection and its plan kept after its fifth run: under a 60 s life a
        # worker asked a page every few seconds lost them every minute (PERFORMANCE.md, lead48).
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "options": f"{POSTGRES_OPTIONS} {os.environ.get('PGOPTIONS', '')}".strip(),
            **(PREPARED_STATEMENTS if os.environ.get("XINFANG_PG_PREPARE", "1") == "1" else {}),
        },
    }


def sqlite_database(path: Path) -> dict:
    return {
        # Django's, its LIKE patterns bound as expressions (``xinfang.db.sqlite3``)
        "ENGINE": "xinfang.db.sqlite3",
        "NAME": path,
        # One connection kept by each served worker: opened for every request (Django's default
        # for a database without CONN_MAX_AGE), each page paid its connection's functions, the
        # pragmas and the schema read again, ~2 ms (PERFORMANCE.md, lead48). The development
        # server closes its connections after each request whatever this says.
        "CONN_MAX_AGE": None,
        # IMMEDIATE takes the write lock when a transaction begins, so two writers queue
        # instead of failing to upgrade a read lock; case numbering relies on it.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "xinfang.sqlite3")}

# A streaming replica for read-only pages and exports (xinfang/replica.py).
if os.environ.get("XINFANG_REPLICA_URL"):
    DATABASES["replica"] = database_from_url(os.environ["XINFANG_REPLICA_URL"])
    XINFANG_READ_REPLICA = "replica"
else:
    XINFANG_READ_REPLICA = None
DATABASE_ROUTERS = ["xinfang.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
# Django's ModelBackend, reading a signed-in user with their active memberships in one statement
# (org/backends.py). Sessions signed in under another backend's name sign in again.
AUTHENTICATION_BACKENDS = ["xinfang.org.backends.MembershipBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "xinfang.security.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# zh-Hans for everyone: every string goes through translation so English can follow, but until
# its catalogue exists no browser's Accept-Language may switch half the page to English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "xinfang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Served by WhiteNoise (the middleware above): production collects into STATIC_ROOT, development
# and tests read the apps' static directories directly (settings.local / settings.test).
WHITENOISE_USE_FINDERS = False
MEDIA_ROOT = VAR_DIR / "media"
# Attachments are never served by URL; the download view checks permission first.
ATTACHMENT_ROOT = VAR_DIR / "attachments"
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

# Signed checkpoints of the audit trail's and the case history's heads, outside the database:
# ship this file off the machine (docs/operations-security.md). None: no checkpoints.
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("XINFANG_AUDIT_CHECKPOINT_FILE", VAR_DIR / "audit-checkpoints.jsonl"))
# Where `restore --force` keeps the trail and history of the database it replaces.
AUDIT_ARCHIVE_DIR = VAR_DIR / "audit-archive"

# Shared by every worker process. (Guess and sign-in counters live in the database:
# security.throttle.)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
    }
}

XINFANG_KEY_FILE = Path(os.environ.get("XINFANG_KEY_FILE", VAR_DIR / "keys" / "xinfang-keys.json"))
XINFANG_KEY_AUTOCREATE = False
# The environment variable holding the passphrase of a wrapped key file (never a setting).
XINFANG_KEY_PASSPHRASE_ENV = "XINFANG_KEY_PASSPHRASE"
XINFANG_PROFILE_DIR = BASE_DIR / "xinfang" / "rules" / "profiles"

SESSION_COOKIE_AGE = 30 * 60  # idle timeout (security.sessions refreshes it once a minute)
# Ended however busy, this long after sign-in; and at most this many sessions per user (a new
# sign-in ends the oldest; 0: no limit). See xinfang/security/sessions.py.
XINFANG_SESSION_ABSOLUTE_SECONDS = int(
    os.environ.get("XINFANG_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
)
XINFANG_MAX_SESSIONS_PER_USER = int(os.environ.get("XINFANG_MAX_SESSIONS_PER_USER", 3))
# 三员分立: days an API token an administrator authorised waits for its holder to collect it, and
# an ordinary account's one-time password for a leader of its unit; uncollected, they lapse.
XINFANG_TOKEN_COLLECT_DAYS = int(os.environ.get("XINFANG_TOKEN_COLLECT_DAYS", 7))
XINFANG_PASSWORD_COLLECT_DAYS = int(os.environ.get("XINFANG_PASSWORD_COLLECT_DAYS", 7))
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks,
# comma-separated in the environment). Empty: nobody's — REMOTE_ADDR is the client.
XINFANG_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("XINFANG_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# Sign-in failures from one address, any account or none, within the window block it.
XINFANG_SIGNIN_ADDRESS_LIMIT = 30
XINFANG_SIGNIN_ADDRESS_WINDOW = 15 * 60
XINFANG_SIGNIN_ADDRESS_BLOCK = 15 * 60
# Roles that must sign in with TOTP (等保 level 3: two factors for the administrators). Comma-
# separated in the environment; an empty value requires it of nobody.
XINFANG_TOTP_REQUIRED_ROLES = [
    r.strip()
    for r in os.environ.get("XINFANG_TOTP_REQUIRED_ROLES", "sysadmin,secadmin,auditor").split(",")
    if r.strip()
]
# Not every request: the session is written when it changes, which the idle marker does at most
# once a minute (xinfang.security.sessions), so an active user costs one session write a minute.
SESSION_SAVE_EVERY_REQUEST = False
# Django's database sessions, the read of each request written once (security/session_store.py).
SESSION_ENGINE = "xinfang.security.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    # The browser's session for the UI; bearer tokens (xinfang/integrations) for other systems.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "xinfang.integrations.auth.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["xinfang.api.renderers.SafeJSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # One error shape for everything under /api/ (xinfang/api/errors.py).
    "EXCEPTION_HANDLER": "xinfang.api.errors.exception_handler",
    # Token requests only (a person's session is throttled at sign-in, not per request).
    "DEFAULT_THROTTLE_CLASSES": ["xinfang.api.errors.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("XINFANG_API_TOKEN_RATE", "600/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "xinfang API",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies as components of their own (``…Request``): their constraints (a required
    # text is minLength 1) are shown where a response's would not apply.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "xinfang.api.schema.add_error_responses",  # every error status, in the one shape
    ],
    # No badge fetched from validator.swagger.io: the docs page calls nothing but this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Background work (xinfang/jobs): django-tasks with its database backend, run by `xinfang worker`
# (`make run` starts it beside the server) — the embedded SQLite setup needs no other service.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Jobs a person starts and watches (kind → function, label); see xinfang/jobs/registry.py.
XINFANG_JOBS = {
    "ledger_l0": ("xinfang.jobs.kinds.ledger_l0", "导出信访事项台账（L0）"),
    "ledger_register": ("xinfang.jobs.kinds.ledger_register", "导出台账（L1–L3）"),
    "ledger_l4": ("xinfang.jobs.kinds.ledger_l4", "导出省级交办件统计表（L4）"),
    "ledger_import": ("xinfang.jobs.kinds.ledger_import", "导入台账"),
    "archive": ("xinfang.jobs.kinds.archive", "生成案卷（一案一档）"),
    "pdf": ("xinfang.jobs.kinds.pdf", "文书转换 PDF"),
    "audit_verify": ("xinfang.jobs.kinds.audit_verify", "校验审计链"),
    "handover": ("xinfang.jobs.kinds.handover", "工作移交（逐件改派）"),
}
# The hand-over page (工作移交) moves at most this many open cases while the person waits; a
# unit holding more is moved by the background job above. A case takes 30–70 ms (its own
# transaction through ``reassign``): a merged township's 1,200 open cases would pass the web
# worker's timeout.
XINFANG_HANDOVER_WAIT = int(os.environ.get("XINFANG_HANDOVER_WAIT", 100))
# A job's file (a ledger, a case file: copies of petitioners' data) is removed this many days
# after the job ended, by the scheduled housekeeping (prune, hourly); the job's row and the
# audit entries of its making stay, and a download says the file expired and how to make it
# again (xinfang/jobs/files.py).
# A job's progress reported inside its transaction (a ledger import, all or nothing) is kept in
# a small file here while it runs, where the pages read it (xinfang/jobs/files.py).
XINFANG_JOB_PROGRESS_DIR = VAR_DIR / "jobs"
XINFANG_JOB_FILES_KEEP_DAYS = float(os.environ.get("XINFANG_JOB_FILES_KEEP_DAYS", 7))
# The auditor's page checks the audit trail's chain while the auditor waits up to this many
# entries; a longer trail is checked by the background job above (校验审计链). Every case read
# appends an entry, so a county's year is a few hundred thousand and the generated province's
# 4.2 million (bench/datagen/trail.py): 207 s at 50 µs an entry, past the web worker's timeout
# (lead50).
XINFANG_AUDIT_VERIFY_WAIT = int(os.environ.get("XINFANG_AUDIT_VERIFY_WAIT", 100_000))
# An L0 export downloaded while the person waits (the API, the ledger page) holds at most this
# many cases; more are refused with a pointer to the background export above. A county's
# 100,000 cases take 12 s; a province's million about two minutes, past the web worker's
# timeout (gunicorn_conf.py: XINFANG_WEB_TIMEOUT, 60 s), which would end the request with a 502
# and no file (lead25).
XINFANG_EXPORT_WAIT_ROWS = int(os.environ.get("XINFANG_EXPORT_WAIT_ROWS", 200_000))
# The same for L4 (省级交办件统计表), counted in the provincial referrals it would hold. An L4 row
# has 29 cells and seven related reads: a province's 60,000 referrals take 25–28 s at 1M cases,
# so 50,000 keeps the wait near the L0 limit's (lead26); the background export
# (导出省级交办件统计表) writes any number.
XINFANG_L4_WAIT_ROWS = int(os.environ.get("XINFANG_L4_WAIT_ROWS", 50_000))
# A confirmed ledger import of more rows than this runs as a background job (导入台账): at 1M
# cases a row takes 12 ms on a quiet server and 30 under load, so a county's year of 5,000 rows
# would pass the web worker's 60 s timeout (lead25); 500 rows keep the wait under ~15 s.
XINFANG_IMPORT_WAIT_ROWS = int(os.environ.get("XINFANG_IMPORT_WAIT_ROWS", 500))
# The schedule: name → (function, every N seconds). Each period runs once however many workers.
# A sweep with many changed cases (the first after an import: 100,000 open cases at a
# province) is split between this many processes on PostgreSQL, each taking its share of the
# cases (xinfang.cases.services.sweep_split); a steady pass, and SQLite, use one.
XINFANG_SWEEP_PROCESSES = int(os.environ.get("XINFANG_SWEEP_PROCESSES",
                                             min(2, os.cpu_count() or 1)))

XINFANG_PERIODIC = {
    "sweep": ("xinfang.jobs.periodic.sweep", int(os.environ.get("XINFANG_SWEEP_EVERY", 300))),
    "outbox": ("xinfang.jobs.periodic.outbox", int(os.environ.get("XINFANG_OUTBOX_EVERY", 30))),
    "prune": ("xinfang.jobs.periodic.prune", int(os.environ.get("XINFANG_PRUNE_EVERY", 3600))),
    # issue 17: late supervision orders and rectifications (xinfang.oversight)
    "oversight": ("xinfang.oversight.periodic.sweep",
                  int(os.environ.get("XINFANG_OVERSIGHT_EVERY", 300))),
    "practices": ("xinfang.practices.sweep.run",
                  int(os.environ.get("XINFANG_PRACTICES_EVERY", 900))),
    # issue 9: the supervision page's kept figures (xinfang.figures; its LAG assumes ≤ 1 min)
    "figures": ("xinfang.figures.services.periodic",
                int(os.environ.get("XINFANG_FIGURES_EVERY", 60))),
}
if DATABASES["default"]["ENGINE"] == "xinfang.db.sqlite3":
    # issue 9: SQLite's search-index merges and WAL checkpoints off the request path (a
    # PostgreSQL site has nothing to do there and no run to record every minute)
    XINFANG_PERIODIC["sqlite_upkeep"] = ("xinfang.jobs.periodic.sqlite_upkeep",
                                         int(os.environ.get("XINFANG_SQLITE_UPKEEP_EVERY", 60)))
else:
    # issue 9: PostgreSQL's search indexes take in their pending entries in the worker, not in
    # the registration that would pass the pending list's limit
    XINFANG_PERIODIC["gin_upkeep"] = ("xinfang.jobs.periodic.gin_upkeep",
                                      int(os.environ.get("XINFANG_GIN_UPKEEP_EVERY", 60)))
