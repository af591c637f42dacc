"""Bookbag settings, read from the environment (django-environ).

No configuration at all means the embedded mode: SQLite in the project folder, the django-q2 ORM
broker, a file cache shared by the processes of this host, and email to the console.
Production sets DATABASE_URL (PostgreSQL), REDIS_URL, CACHE_URL, EMAIL_URL and the TLS settings.
"""

from pathlib import Path

import environ

from bookbag.core.secret_key import load_or_create_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("BOOKBAG_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Embedded mode keeps one generated key in a git-ignored file: a key drawn at every start would
# log everyone out and make django-q2 delete every queued task (it signs them with the key).
SECRET_KEY = env.str("SECRET_KEY", default="") or load_or_create_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "bookbag.core",
    "bookbag",
    "integrations",
    "tickets",
    "notifications",
    "webhooks",
]

MIDDLEWARE = [
    "bookbag.request_id.RequestIdMiddleware",
    "bookbag.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "bookbag.security_headers.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bookbag.urls"
WSGI_APPLICATION = "bookbag.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'bookbag.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # See shared/TRAPS.md: IMMEDIATE transactions so read-then-write never fails at once under WAL,
    # a busy timeout, and a file-based test database (the in-memory one uses table locks).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_bookbag.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every process of one host (DRF throttles, django-q2 stats, presence) --------
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# --- Email ----------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Where customers reach this deployment (CSAT links in emails).
BOOKBAG_BASE_URL = env.str("BOOKBAG_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bookbag <support@bookbag.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth, i18n, static ---------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Manifest storage only where collectstatic has run (production): the test runner forces
# DEBUG=False and every {% static %} would fail without a manifest (shared/TRAPS.md).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security (behind a TLS proxy in production) --------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER"))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# Reverse proxies in front that append the client's address to X-Forwarded-For (the sign-in
# limits count per address: without this, every client would share the proxy's).
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Secrets at rest (shop webhook secrets, endpoint signing secrets) are Fernet-encrypted with keys
# derived from these; the first encrypts, all decrypt (rotation). Defaults to SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[SECRET_KEY])

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF builds WWW-Authenticate from the first class, so anonymous gets 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The API speaks JSON only (a form-encoded body gets 415).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Every list: a cursor over the primary key, never DRF's `-created` default (TRAPS.md).
    "DEFAULT_PAGINATION_CLASS": "bookbag.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    # One error body everywhere: {"detail", "code", "errors"} (bookbag/api_errors.py).
    "EXCEPTION_HANDLER": "bookbag.api_errors.exception_handler",
    # Counted in the shared cache (CACHE_URL), per user (one token per integration).
    "DEFAULT_THROTTLE_CLASSES": [
        "bookbag.throttling.UserRateLimit",
        "bookbag.throttling.AnonRateLimit",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_RATE", default="600/minute"),
        "anon": env.str("API_ANON_THROTTLE_RATE", default="60/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bookbag API",
    "DESCRIPTION": (
        "The REST API of Bookbag, the support application for Shopify merchants: tickets and "
        "their messages, customers, orders, notifications and, for admins, outbound webhook "
        "endpoints, deliveries and the inbound Shopify webhook log. Authenticate with "
        "`Authorization: Token <key>` (`manage.py drf_create_token <username>`). Shopify ids "
        "are strings. Every list is cursor-paginated; errors have one shape: "
        '`{"detail", "code", "errors"}`.'
    ),
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Separate request and response components, so read-only fields are never "required" input.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "ChannelEnum": "tickets.models.Channel",
        "OpeningChannelEnum": "tickets.serializers.OPEN_CHANNELS",
        "OutboxStatusEnum": "bookbag.core.models.OutboxStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bookbag.api_schema.document_error_responses",
    ],
}

# --- Task queue (django-q2); see "Task queue facts" in shared/DESIGN.md ---------------------------
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "bookbag",  # never rename: queued tasks are signed with it
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=600),  # > timeout + queue wait, or tasks run twice
    "max_attempts": 1,  # retries are ours (next_attempt_at), not the queue's
    "ack_failures": True,
    "save_limit": -1,
    "catch_up": False,
    "queue_limit": 4,
    "bulk": 4,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Outboxes: leases and sweeping ----------------------------------------------------------------
# A row handed to the queue is leased for this long so the sweeper does not enqueue it again while
# it merely waits in a long queue; a task's own claim lease is set per outbox.
OUTBOX_QUEUE_LEASE_SECONDS = env.int("OUTBOX_QUEUE_LEASE_SECONDS", default=300)
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", default=500)
# The most messages the queue holds (bookbag.core.outbox: the fair top-up). While it is full,
# writers leave new rows to the sweeper, which shares the room left equally among shops and
# endpoints, and a row whose queue lease ran out is taken to be still waiting, not lost. Keep it
# well below what the workers drain in OUTBOX_QUEUE_LEASE_SECONDS.
OUTBOX_SWEEP_QUEUE_LIMIT = env.int("OUTBOX_SWEEP_QUEUE_LIMIT", default=1000)

# Retention of finished rows (days); failed, dead and unknown rows are kept until handled.
INBOUND_RETENTION_DAYS = env.int("INBOUND_RETENTION_DAYS", default=30)
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=180)

# --- Shopify --------------------------------------------------------------------------------------
SHOPIFY_API_SECRET = env.str("SHOPIFY_API_SECRET", default="")
SHOPIFY_FLAG_TAGS = env.list("SHOPIFY_FLAG_TAGS", default=["fraud", "chargeback", "flagged"])
SHOPIFY_WEBHOOK_MAX_BYTES = env.int("SHOPIFY_WEBHOOK_MAX_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(SHOPIFY_WEBHOOK_MAX_BYTES, 2_621_440)

# --- Outbound webhooks ----------------------------------------------------------------------------
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
# Per attempt: connecting, and the whole exchange (a wall-clock deadline, not per socket read).
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=15.0)
# Succeeded deliveries and their attempts are pruned after this many days (failed ones stay).
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)

# --- Logging --------------------------------------------------------------------------------------
# JSON lines in production (one object per line, with request_id / webhook_id / message_id);
# readable lines under DEBUG. LOG_FORMAT=json|plain overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "bookbag.core.logcontext.ContextFilter"}},
    "formatters": {
        "json": {"()": "bookbag.core.logcontext.JsonFormatter"},
        "plain": {
            "()": "bookbag.core.logcontext.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django-q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
        "django.server": {"level": "WARNING" if not DEBUG else "INFO"},
    },
}
