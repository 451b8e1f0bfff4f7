"""The Celery application: background jobs (emails, the hourly digest, nightly
maintenance) on the Redis broker when REDIS_URL is set, run inline otherwise.

Started by `celery -A config worker --beat`; its settings are the CELERY_* ones of
config/settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks.py (core, approvals, support, structures, users).
app.autodiscover_tasks()
