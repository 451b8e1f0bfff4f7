"""Settings for the test suite: the production settings with a throwaway key and fast hashing."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "test-suite-key-not-secret-0123456789abcdef")
# No Redis, no broker: the embedded default (local cache, database sessions, tasks
# inline after commit), whatever the shell or .env says; a test that needs Redis sets it.
os.environ["REDIS_URL"] = ""
os.environ["CELERY_BROKER_URL"] = ""
os.environ["CELERY_RESULT_BACKEND"] = ""
# The demo seeding, the scale generator and the benchmark pages are tested too.
os.environ["DEVTOOLS"] = "true"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The test client and the live server speak plain http.
SECURE_SSL_REDIRECT = False
# Static files come from the apps' folders, as under the development server: the suite
# does not run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Tests open connections from many threads (live server, races): each closes its own at
# once, so that the test database can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file rather than SQLite's shared in-memory database: in memory, concurrent
    # connections get "database table is locked" and WAL does not exist, so the
    # concurrency tests could not run. In RAM (/dev/shm) where there is one, as fast as
    # memory; one folder per test process, removed at its end.
    _folder = tempfile.mkdtemp(
        prefix="portail-tests-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    )
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_folder, "test.sqlite3")}  # noqa: F405
