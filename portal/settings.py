"""Settings, read once from the environment (and a ``.env`` file beside manage.py).

Every variable is documented in ``.env.example``. Defaults need no server: SQLite and a
filesystem Celery broker. Production switches to PostgreSQL and Redis by environment alone.
"""
import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")


def _required(name, hint):
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {hint}")
    return value


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY", "Put a long random value in .env (make run writes one).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
VAR_DIR = Path(env.str("VAR_DIR", default="") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Fernet keys that encrypt connection credentials at rest. The first key encrypts; all of
# them decrypt, so a new key can be put in front and `manage.py rotate_credentials` run.
CREDENTIALS_KEYS = env.list("CREDENTIALS_KEYS", default=[])
if not CREDENTIALS_KEYS:
    raise ImproperlyConfigured(
        "CREDENTIALS_KEYS is not set. Put one Fernet key in .env (make run writes one); "
        "generate with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "portal",
    "syncconfig",
    "connectors",
    "connectors.sandbox",
    "dedupe",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

# SQLite is the embedded default. Web, worker, beat and the vendor sandboxes share the file,
# so: WAL (readers never block the writer), a generous busy timeout, and IMMEDIATE
# transactions (a writer takes the lock up front instead of failing on upgrade).
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Production hardening; behind a TLS-terminating proxy set SECURE_SSL_REDIRECT and the
# cookie flags to true (see README, "Deploying").
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None

# Celery. The embedded default is kombu's filesystem transport (no server); production
# sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis", "rediss", "sentinel")):
    # Redis hands a message taken but not acknowledged back to the queue after this many
    # seconds, even when its worker is alive and still running it (a task with a countdown is
    # held by a worker the same way). Runs can take hours, and a run whose worker died is taken
    # over by the reaper once its heartbeat stops; redelivery is only the broker's last resort,
    # for a worker machine that vanished. So: longer than any run, 12 hours (Redis's default is
    # 1 hour). A run delivered twice runs once anyway (services.run_claim takes only a queued run).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged when it has finished, not when a worker takes it, and a worker
# process that dies under it (killed, out of memory) puts it back in the queue: another worker
# runs it. Every task is safe to run twice: runs and merges are claimed atomically from their
# queued state (services.run_claim, merging.merge_execute), matching reads what changed since
# its last pass. The filesystem broker supports both: a rejected message is written back to
# the queue folder. (It has no visibility timeout: a message whose whole worker was killed is
# lost there, and the reaper ends its run.)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker takes no more tasks than it has processes (with late acks a running task counts),
# so tasks never wait behind a long run on one worker while another worker is idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = CELERY_TASK_ALWAYS_EAGER
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# Where vendors reach this portal (change notifications are posted to PORTAL_URL/hooks/...).
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# Email (the summary a field user gets after a push): an EMAIL_URL such as
# smtp+tls://user:password@smtp.example.com:587, or the default, which prints mails on the
# console of the worker; filemail:///path/to/folder writes each to a file instead.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CRM integration portal <portal@localhost>")

# Zoho's cut-off for its legacy CRM → Campaigns model (ZO-6), as Zoho announced it to the
# organisation (YYYY-MM-DD): legacy configurations still there are migrated from that day on.
# Blank: no cut-off announced.
try:
    ZOHO_LEGACY_CUTOFF = datetime.date.fromisoformat(env.str("ZOHO_LEGACY_CUTOFF", default="")) if env.str(
        "ZOHO_LEGACY_CUTOFF", default="") else None
except ValueError:
    raise ImproperlyConfigured("ZOHO_LEGACY_CUTOFF must be a date as YYYY-MM-DD.") from None

# Where the vendor sandboxes answer (served by `manage.py sandbox serve`).
SANDBOX_URL = env.str("SANDBOX_URL", default=f"http://127.0.0.1:{env.int('SANDBOX_PORT', default=8001)}")
# Create demo sandbox accounts and connections to them on first run (`make run`).
SANDBOX_DEMO = env.bool("SANDBOX_DEMO", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
