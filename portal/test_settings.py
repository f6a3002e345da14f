"""Settings for the test suite: the real settings with fixed test keys and inline tasks."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-in-production")
# A fixed Fernet key (tests only) so that encrypted fixtures are reproducible.
os.environ.setdefault("CREDENTIALS_KEYS", "nS0dpPMaNn0cPTmHTl4bTtLdpv6mBWgLDvXU4F1k6VY=")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - threads of live servers must not keep connections
