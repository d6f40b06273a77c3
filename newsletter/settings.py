"""Settings for the newsletter CMS.

Every setting that differs between machines is read from the environment here, once, with a
default that makes local use work. With DEBUG off, unsafe values refuse to start.
"""

from __future__ import annotations

import os
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")

if not DEBUG:
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")

PORT = int(env("PORT", "8000"))
# The public address of the site, used for absolute links in emails, feeds and social cards.
SITE_URL = env("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
SITE_NAME = env("SITE_NAME", "ML Safety Newsletter")
SITE_DESCRIPTION = env(
    "SITE_DESCRIPTION",
    "Empirical machine learning safety research, summarised for the broader ML community.",
)
# CAN-SPAM asks every commercial email to carry the sender's postal address.
POSTAL_ADDRESS = env("POSTAL_ADDRESS", "ML Safety Newsletter, 1 Example Street, San Francisco, CA 94107, USA")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "markdownx",
    "taggit",
    "anymail",
    "reversion",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "newsletter",
    "editorial",
    "subscribers",
    "operations",
    "importers",
]

MIDDLEWARE = [
    # First, so that every log line of the request carries its id (operations/request_id.py).
    "operations.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Pages are compressed here (whitenoise already serves static files pre-compressed). CSRF
    # tokens are masked per response, which defeats BREACH-style guessing.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "newsletter.twofactor.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # An empty ?_to_field= is a 500 in Django's admin; refused with a 400 (newsletter/admin_guard.py).
    "newsletter.admin_guard.AdminEmptyToFieldMiddleware",
    # An imported publication's old links (/p/<slug>): 301 where this site would answer 404.
    "importers.redirects.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsletter.urls"
WSGI_APPLICATION = "newsletter.wsgi.application"

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
                "newsletter.context_processors.site",
            ],
        },
    },
]

# SQLite is the embedded default. The web process and the task worker write at the same time, so
# it runs in WAL mode with a busy timeout and IMMEDIATE transactions (never "database is locked").
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work goes through the Django Tasks API. "db" queues in the database (run
# `manage.py db_worker`); "rq" queues on Redis (run `manage.py rqworker`); "immediate" runs
# tasks inline (tests).
TASKS_BACKEND = env("TASKS_BACKEND", "db")
_TASK_BACKENDS = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}.")
TASKS = {"default": _TASK_BACKENDS[TASKS_BACKEND]}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}

# django-axes checks every login against its record of failures before the password is tried.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# Uploaded figures live in the local media folder by default; set AWS_STORAGE_BUCKET_NAME (and the
# usual AWS_* variables, AWS_S3_ENDPOINT_URL for any S3-compatible store) to use object storage.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN") or None
    AWS_QUERYSTRING_AUTH = False
    AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "public, max-age=31536000, immutable"}
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email. By default every message is stored in the database outbox that the site shows at
# /outbox/ (the task worker sends mail, so an in-memory outbox would stay empty). Set
# EMAIL_BACKEND to Django's SMTP backend, or ANYMAIL_ESP to an Anymail ESP name, to send for real.
ANYMAIL_ESP = env("ANYMAIL_ESP")
if ANYMAIL_ESP == "resend":
    # Anymail's Resend backend plus batch merge_data and an Idempotency-Key per delivery.
    EMAIL_BACKEND = "subscribers.sending.esp_backends.ResendBackend"
elif ANYMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", "newsletter.outbox.DatabaseOutboxBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "ML Safety Newsletter <newsletter@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The Date header in TIME_ZONE with its offset ("+0000" in UTC); Django's default, UTC written as
# "-0000", means "time zone unknown" (RFC 5322) and some filters count it against the message.
EMAIL_USE_LOCALTIME = True
# Where replies to every email the site sends go (newsletter/emails.py); empty: the From address.
NEWSLETTER_REPLY_TO = env("NEWSLETTER_REPLY_TO")
if NEWSLETTER_REPLY_TO and "@" not in parseaddr(NEWSLETTER_REPLY_TO)[1]:
    raise ImproperlyConfigured("NEWSLETTER_REPLY_TO must be an email address, like replies@example.org.")
# Every ANYMAIL_<NAME> variable (ANYMAIL_SENDGRID_API_KEY, ANYMAIL_WEBHOOK_SECRET, ...) becomes
# ANYMAIL["<NAME>"], so any ESP's keys are set without editing this file.
ANYMAIL: dict[str, str | list[str]] = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP"
}
# Tracking webhooks authenticate with HTTP basic auth "user:password". Several pairs,
# comma-separated, are all accepted, so the secret rotates without downtime: add the new pair,
# point the ESP's webhook URL at it, then remove the old one.
if "WEBHOOK_SECRET" in ANYMAIL:
    ANYMAIL["WEBHOOK_SECRET"] = env_list("ANYMAIL_WEBHOOK_SECRET")
if not DEBUG and ANYMAIL_ESP and not ANYMAIL.get("WEBHOOK_SECRET"):
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET (user:password) must be set when ANYMAIL_ESP is: tracking webhooks "
        "refuse unauthenticated posts."
    )
# Open and click tracking are off by default (readers' privacy); the publication turns them on here.
TRACK_OPENS = env_bool("TRACK_OPENS", False)
TRACK_CLICKS = env_bool("TRACK_CLICKS", False)

# Production hardening; each can be turned off from the environment behind a TLS-less proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("USE_X_FORWARDED_PROTO", not DEBUG) else None
)
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes (a load balancer, a monitor) often ask over plain http: /healthz and /readyz answer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Views that show an email in a frame of our own origin opt in with @xframe_options_sameorigin.
X_FRAME_OPTIONS = "DENY"

# Markdown everywhere (admin live preview included) goes through our one sanitising renderer.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "newsletter.rendering.markdown_to_html"
# The editor's image drops are stored there by newsletter/upload_views.py (not markdownx's view).
MARKDOWNX_MEDIA_PATH = "uploads/"
# Every image upload (figures, avatars, the editor's drops) is decoded and re-encoded by
# newsletter/uploads.py; larger files, or images with more pixels, are refused before decoding.
UPLOAD_MAX_BYTES = int(env("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
UPLOAD_MAX_PIXELS = int(env("UPLOAD_MAX_PIXELS", "40000000"))

TAGGIT_CASE_INSENSITIVE = True

# Login protection (django-axes). Failures are kept in the database (AccessAttempt rows), so every
# worker and machine shares them. LOGIN_FAILURE_LIMIT wrong passwords (or two-factor codes) for one
# username from one IP lock that pair out for LOGIN_COOLOFF_MINUTES; every attempt while locked
# starts the wait again. Locking the pair, not the account, means nobody can lock a colleague out
# from elsewhere. The client IP is read as the sign-up rate limits read it (TRUSTED_PROXY_COUNT).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(env("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "newsletter.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "newsletter.account_views.locked_out"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_VERBOSE = False  # no banner on every manage.py command
# Two-factor sign-in (TOTP, django-otp) is open to every staff user from the admin; this says whose
# it is required for: "managing_editors" (whoever may publish or send, superusers included), "staff"
# or "none". Such a user without a confirmed device is sent to enrol before any admin page.
OTP_REQUIRED_FOR = env("OTP_REQUIRED_FOR", "none" if DEBUG else "managing_editors")
if OTP_REQUIRED_FOR not in {"none", "managing_editors", "staff"}:
    raise ImproperlyConfigured('OTP_REQUIRED_FOR must be "none", "managing_editors" or "staff".')
OTP_TOTP_ISSUER = SITE_NAME
# The admin's list of devices (where a superuser removes a lost one) never shows their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content-Security-Policy (django-csp) on every page: scripts, styles and fonts from this site only,
# no inline code (templates have none). Views that frame an email set their own, stricter policy.
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only (to try a change
# out); CSP_REPORT_URI, when set, is where browsers report violations.
_csp_directives = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    # Summaries may show figures hosted elsewhere (an arXiv or S3 URL); images run no code.
    "img-src": [SELF, "data:", "https:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "frame-src": [SELF],
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
if env("CSP_REPORT_URI"):
    _csp_directives["report-uri"] = [env("CSP_REPORT_URI")]
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY: dict[str, dict[str, list[str]]] | None = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY: dict[str, dict[str, list[str]]] | None = {
        "DIRECTIVES": _csp_directives
    }
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives}
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None
# Permissions-Policy on every response: no page of ours uses these browser features, so none may.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Subscribers. Address syntax is always checked; a DNS deliverability check is optional.
SUBSCRIBERS_CHECK_DELIVERABILITY = env_bool("SUBSCRIBERS_CHECK_DELIVERABILITY", False)
# How many reverse proxies append to X-Forwarded-For; the client IP (for rate limits) is read
# from that position. 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Where sign-up rate limits count (subscribers/ratelimit.py): "cache" (Redis, when REDIS_URL is set)
# or "database"; both are shared by every worker, unlike the per-process local-memory cache.
RATELIMIT_STORE = env("RATELIMIT_STORE", "cache" if REDIS_URL else "database")
if RATELIMIT_STORE not in {"cache", "database"}:
    raise ImproperlyConfigured('RATELIMIT_STORE must be "cache" or "database".')
if RATELIMIT_STORE == "cache" and not REDIS_URL:
    raise ImproperlyConfigured(
        "RATELIMIT_STORE=cache needs REDIS_URL: the local-memory cache is per process, so each worker "
        "would keep its own count."
    )
# The mailto: target of List-Unsubscribe; defaults to DEFAULT_FROM_EMAIL's address.
UNSUBSCRIBE_EMAIL = env("UNSUBSCRIBE_EMAIL")
# The send pipeline (subscribers/sending/__init__.py). Batches claim SEND_BATCH_SIZE deliveries; the rate
# limit (messages per second, 0 = none) holds across every worker; a working batch renews its
# lease every quarter of SEND_LEASE_SECONDS, so once a worker stops for that long its message in
# hand is shown as "unknown" (never resent by itself) and the rest of its batch is queued again;
# a transient error is retried at most SEND_MAX_ATTEMPTS times, SEND_RETRY_SECONDS apart, doubling.
SEND_BATCH_SIZE = int(env("SEND_BATCH_SIZE", "100"))
SEND_RATE_LIMIT = float(env("SEND_RATE_LIMIT", "0"))
SEND_LEASE_SECONDS = int(env("SEND_LEASE_SECONDS", "40"))
SEND_MAX_ATTEMPTS = int(env("SEND_MAX_ATTEMPTS", "5"))
SEND_RETRY_SECONDS = float(env("SEND_RETRY_SECONDS", "60"))
# The List-Id header's identifier (RFC 2919); empty means "<site-name>.<domain of SITE_URL>".
LIST_ID = env("LIST_ID")
# ESP batch sends (one API call per variant, the ESP filling each copy): unset = wherever the ESP
# supports it (SendGrid, Mailgun, SparkPost, Resend); "none" = never; an ESP name = its syntax.
if "SEND_BATCH_ESP" in os.environ:
    SEND_BATCH_ESP = os.environ["SEND_BATCH_ESP"]

# Logs go to stderr: plain lines with DEBUG on, one JSON object a line in production (LOG_FORMAT
# "json" or "text"), each with the request id (operations/logs.py).
LOG_FORMAT = env("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured('LOG_FORMAT must be "json" or "text".')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "operations.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "operations.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Error reports go to Sentry when SENTRY_DSN is set (operations/errors.py), nowhere otherwise.
SENTRY_DSN = env("SENTRY_DSN")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_RELEASE = env("SENTRY_RELEASE")
SENTRY_TRACES_SAMPLE_RATE = float(env("SENTRY_TRACES_SAMPLE_RATE", "0"))
# Health (operations/health.py): /readyz fails when a due task has waited longer than
# HEALTH_QUEUE_MAX_AGE seconds, or a heartbeat task has found no worker for HEALTH_HEARTBEAT_MAX_AGE;
# the status page keeps a sample a minute for HEALTH_HISTORY_DAYS.
HEALTH_QUEUE_MAX_AGE = float(env("HEALTH_QUEUE_MAX_AGE", "600"))
HEALTH_HEARTBEAT_MAX_AGE = float(env("HEALTH_HEARTBEAT_MAX_AGE", "180"))
HEALTH_HISTORY_DAYS = float(env("HEALTH_HISTORY_DAYS", "7"))
# Backups (`manage.py backup`, operations/backups.py): where they go and how many are kept.
# BACKUP_DIR may be s3://bucket/prefix (any S3-compatible store; BACKUP_S3_ENDPOINT_URL for non-AWS).
BACKUP_DIR = env("BACKUP_DIR", str(BASE_DIR / "var" / "backups"))
BACKUP_KEEP = int(env("BACKUP_KEEP", "14"))
BACKUP_S3_ENDPOINT_URL = env("BACKUP_S3_ENDPOINT_URL", env("AWS_S3_ENDPOINT_URL"))

# Paper metadata from a pasted identifier (newsletter/paper_lookup/, docs/paper-lookup.md). Each
# source's base URL is a setting, so tests serve its answers from a local server. Every request
# gives up after PAPER_LOOKUP_TIMEOUT seconds and names PAPER_LOOKUP_CONTACT in its User-Agent
# (arXiv asks for it; Crossref's "polite" pool serves such requests); answers are cached per
# identifier. arXiv asks for at most one request every ARXIV_MIN_INTERVAL (3) seconds: a throttle
# in the default cache, shared by every process when REDIS_URL is set.
ARXIV_API_URL = env("ARXIV_API_URL", "https://export.arxiv.org/api/query")
CROSSREF_API_URL = env("CROSSREF_API_URL", "https://api.crossref.org")
OPENREVIEW_API_URL = env("OPENREVIEW_API_URL", "https://api2.openreview.net")
PAPER_LOOKUP_CONTACT = env("PAPER_LOOKUP_CONTACT", parseaddr(DEFAULT_FROM_EMAIL)[1] or "newsletter@localhost")
PAPER_LOOKUP_TIMEOUT = float(env("PAPER_LOOKUP_TIMEOUT", "5"))
PAPER_LOOKUP_CACHE_SECONDS = int(env("PAPER_LOOKUP_CACHE_SECONDS", str(7 * 24 * 3600)))
ARXIV_MIN_INTERVAL = float(env("ARXIV_MIN_INTERVAL", "3"))
if not DEBUG and ARXIV_MIN_INTERVAL < 3:
    raise ImproperlyConfigured("ARXIV_MIN_INTERVAL must be at least 3 seconds: arXiv's terms ask for it.")

# Imports from Substack (importers/, docs/importing.md): the uploaded export waits outside MEDIA_ROOT
# (the email list is personal data) and is deleted when the import ends; images are fetched with a
# timeout, from public addresses only unless IMPORT_FETCH_PRIVATE_HOSTS (tests) allows local ones.
IMPORT_UPLOAD_ROOT = Path(env("IMPORT_UPLOAD_ROOT", str(BASE_DIR / "var" / "imports")))
IMPORT_FETCH_TIMEOUT = float(env("IMPORT_FETCH_TIMEOUT", "10"))
IMPORT_FETCH_PRIVATE_HOSTS = False
