"""Settings for Portail Organisation, read from the environment (see README.md)."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# A development key is acceptable only while DEBUG is on: in production a leaked or
# guessable key lets anyone forge sessions and activation links.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 32 characters when DEBUG is off."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "chorus.apps.PortalAdminConfig",  # django.contrib.admin, deletions audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_email",
    "core",
    "chorus",
    "users",
    "structures",
    "approvals",
    "support",
]
# Demo seeding, the scale generator and the benchmark's reference pages (devtools/):
# under DEBUG, or where DEVTOOLS asks for them (the load benchmark runs the production
# settings); never installed in production.
DEVTOOLS = env.bool("DEVTOOLS", default=DEBUG)
if DEVTOOLS:
    INSTALLED_APPS.append("devtools")

# What the access kernel (chorus) reads of the domain apps: see chorus/interfaces.py.
ACCESS_STRUCTURE_MODEL = "structures.Structure"
ACCESS_MEMBERSHIP_MODEL = "users.Membership"

MIDDLEWARE = [
    # First: the request id and the metrics cover everything the other layers do.
    "core.observability.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.i18n.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle and too old sessions end here, before anything reads request.user.
    "core.sessions.SessionLifetimeMiddleware",
    # request.user.is_verified(): the second factor was given in this session.
    "django_otp.middleware.OTPMiddleware",
    # A user who owes a second factor (a code, or an enrolment) reaches nothing else.
    "users.middleware.TwoFactorMiddleware",
    # Every page requires a login unless its view is marked public.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chorus.access.AccessMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so that a locked-out login attempt is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chorus.context_processors.portal",
                "csp.context_processors.nonce",
            ],
        },
    },
]
FORM_RENDERER = "dsfr.forms.DsfrDjangoTemplates"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Each worker keeps its connection between requests (opening one costs more than most
# pages' queries) and checks it is still alive before reusing it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# An optional streaming replica of the primary, for read-only bulk reads that tolerate a
# few seconds of lag (core.db.reporting); every other read stays on the primary so that
# a request always sees its own writes.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default (make run, runserver's threads) lets one writer at a time:
    # make the others wait their turn instead of answering "database is locked". Every
    # transaction takes the write lock when it begins (IMMEDIATE), so none fails trying
    # to upgrade a read lock; WAL lets pages be read while someone writes; a writer waits
    # up to 20 seconds for its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    # AxesBackend first: it refuses a locked-out account before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Activation links and password-reset links expire after 60 minutes.
ACCOUNT_ACTIVATION_TIMEOUT = 60 * 60
PASSWORD_RESET_TIMEOUT = 60 * 60

# Five failed logins lock the account for one hour, whatever the client's address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# The rule locks the account, not the address: locking by IP would lock out a whole
# office behind one gateway because of one colleague's typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "users.views.accounts.lockout"
AXES_USERNAME_CALLABLE = "users.services.accounts.lockout_username"
# The browser that followed the account's emailed unlock link is let through for a
# while, so a stranger's continued failures cannot keep the owner out.
AXES_WHITELIST_CALLABLE = "users.services.accounts.unlocked_here"
AXES_VERBOSE = False

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Portail Organisation <ne-pas-repondre@portail.localhost>"
)

# By default, the local stand-in (python -m sirene_standin) on the port `make run` gives it.
SIRENE_STANDIN_PORT = env.int("SIRENE_STANDIN_PORT", default=8765)
SIRENE_API_URL = env("SIRENE_API_URL", default=f"http://127.0.0.1:{SIRENE_STANDIN_PORT}/api-sirene/3.11")
# The default key is the one the local stand-in (sirene_standin) accepts.
SIRENE_API_KEY = env("SIRENE_API_KEY", default="demo-sirene-key")

# Live chat with an agent: opening hours (Europe/Paris) and working days (Monday is 0).
SUPPORT_CHAT_HOURS = tuple(env.list("SUPPORT_CHAT_HOURS", default=["08:30", "18:30"]))
SUPPORT_CHAT_DAYS = tuple(int(day) for day in env.list("SUPPORT_CHAT_DAYS", default=list("01234")))
SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS = env.bool("SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS", default=True)

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
DSFR_CONTENT_IS_SAFE = False

SESSION_COOKIE_HTTPONLY = True
# A session ends after 30 minutes without activity and 12 hours after the login whatever
# the activity (core.sessions); the warning dialog opens 2 minutes before the idle end.
# The environment gives minutes and hours; the settings hold seconds.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30) * 60
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12) * 60 * 60
SESSION_IDLE_WARNING = 2 * 60
if not 0 < SESSION_IDLE_TIMEOUT <= SESSION_ABSOLUTE_LIFETIME:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT must be positive and at most SESSION_ABSOLUTE_LIFETIME.")
SESSION_COOKIE_SECURE = not DEBUG and env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Cache, sessions and background jobs (REDIS_URL) ----------------------------------
# Without REDIS_URL (embedded default, tests): a cache per process, sessions and login
# lockouts in the database, background jobs run inline once the transaction commits.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Shared by every app server: the Sirene quota, login lockouts and sessions are
    # counted once for the whole platform, not once per process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portail",
        }
    }
    # cached_db rather than cache: reads come from Redis, yet a Redis restart or an
    # eviction under memory pressure does not log every user out; the database is
    # written only when a session changes.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
else:
    # Rate-limit counters and single-use challenges live here too: room enough that a flood
    # of page views does not evict them (the default keeps 300 entries).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL) or "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL) or None
# No broker: each task runs in the process that dispatches it (after the commit, see
# core/mail.py); a failing task is logged, never raised into the request.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that enqueues while Redis is down must fall back quickly, not hang.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
# A task not acknowledged within visibility_timeout is delivered again: longer than the
# longest retry countdown (one hour), so that a waiting retry is not duplicated.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": 2 * 60 * 60,
}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # An approver receives at most one digest an hour.
    "approvals-digest": {"task": "approvals.tasks.approvals_digest", "schedule": crontab(minute=0)},
    "support-autoclose": {
        "task": "support.tasks.support_autoclose",
        "schedule": crontab(hour=2, minute=30),
    },
    # At night, when INSEE's quota is not needed by the pages.
    "sirene-refresh": {"task": "structures.tasks.sirene_refresh", "schedule": crontab(hour=3, minute=15)},
    # Files kept after a form error live two hours: those never used go every hour.
    "kept-uploads-purge": {"task": "structures.tasks.kept_uploads_purge", "schedule": crontab(minute=40)},
}
# Without a broker, `manage.py run_schedule` runs the same schedule in its own process
# and keeps each task's last run here (core.scheduler).
SCHEDULE_STATE_FILE = env.path("SCHEDULE_STATE_FILE", default=BASE_DIR / "var" / "schedule-state.json")

# --- Object storage (S3-compatible when configured) -----------------------------------
# Request guards: form fields ≤ 2.5 MB, ≤ 20 files, an upload body and each file bounded
# while streamed (core.uploads.UploadLimitHandler); past them, a French 400 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "core.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# With S3_BUCKET set, uploaded files (attachments, bank-detail proofs, ticket files) go to
# that bucket of any S3-compatible service, private: the portal never hands out a URL of
# the object and streams every download through the permission check
# (core.storage.download_response). Without it, the local private folder MEDIA_ROOT.
S3_BUCKET = env("S3_BUCKET", default="")
if S3_BUCKET:
    from botocore.config import Config as _S3ClientConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # Empty for AWS itself; the service's address otherwise (MinIO, Garage, OVH…).
            "endpoint_url": env("S3_ENDPOINT_URL", default="") or None,
            # Unset: boto3's own chain (instance role, AWS_* variables).
            "access_key": env("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env("S3_REGION", default="") or None,
            "location": env("S3_PREFIX", default=""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            # Code that reads a stored file whole (a copy) spills past 5 MB to disk.
            "max_memory_size": 5 * 1024 * 1024,
            # A stalled service must fail a request within seconds, not hold a worker.
            "client_config": _S3ClientConfig(
                s3={"addressing_style": env("S3_ADDRESSING_STYLE", default="path")},
                signature_version="s3v4",
                connect_timeout=2,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }

# --- Health, metrics and structured logs ----------------------------------------------
# Load balancers and Prometheus talk plain http to each app server: no redirect to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics answers these networks (loopback and private ranges by default); from
# elsewhere, or through a proxy, only a request with "Authorization: Bearer <METRICS_TOKEN>".
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False

# One JSON object a line (for the log collector) unless LOG_FORMAT=text; text by default
# under DEBUG, for a person reading the console. Every line carries the request id.
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # The development server's own line per request repeats chorus.access.
        "django.server": {"level": "WARNING"},
    },
}
# The Celery worker logs through the same configuration instead of its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Production security and response headers -----------------------------------------
# Off under DEBUG only: the development server speaks plain http. Behind a load balancer
# that terminates TLS, set SECURE_PROXY_SSL_HEADER so that Django knows the request was https.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # One year, then browsers refuse plain http for the host (and its subdomains).
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # The header only makes the domain eligible: it enters the browsers' preload list
    # once submitted on hstspreload.org, a deliberate step for the operator.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# "X-Forwarded-Proto,https": the header name and value the load balancer sets. Only with a
# proxy that always sets (or strips) it, or a client could claim https.
# Proxies in front of the app servers that append the client's address to X-Forwarded-For
# (1 behind one load balancer): rate limits then count per real client, not per balancer.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if env("SECURE_PROXY_SSL_HEADER", default=""):
    _proxy_header, _proxy_value = env.list("SECURE_PROXY_SSL_HEADER")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), _proxy_value)
SECURE_REFERRER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True

# django-csp: scripts only from the portal itself or inline with this request's nonce
# ({{ CSP_NONCE }} in templates); nothing may frame the portal, no plugins, no foreign forms.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        # The proof of bank details is previewed from the chosen file's object URL.
        "frame-src": [SELF, "blob:"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
# The hashed-name storage rewrites the url() references inside DSFR's stylesheets, so
# the published integrity hashes no longer match and browsers would refuse the styles.
# The files come from our own origin: subresource integrity adds nothing there.
DSFR_USE_INTEGRITY_CHECKSUMS = DEBUG
# Powerful browser features the portal never uses, refused to the page and any frame.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# --- Two-factor authentication ---------------------------------------------------------

OTP_TOTP_ISSUER = "Portail Organisation"
# The email code is valid 10 minutes, once; a new one can be asked for after a minute.
OTP_EMAIL_TOKEN_VALIDITY = 10 * 60
OTP_EMAIL_COOLDOWN_DURATION = 60
# No per-device throttle: the account lockout (5 failures, 1 hour) already bounds
# guessing, and a throttle would refuse a right code typed just after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_EMAIL_THROTTLE_FACTOR = 0
# A failed code is logged by django-axes with the posted data: never keep the code.
AXES_SENSITIVE_PARAMETERS = ["password", "code"]
