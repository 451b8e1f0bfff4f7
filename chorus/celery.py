"""The Celery application: background jobs (emails, the hourly digest, nightly
maintenance) on the Redis broker when REDIS_URL is set, run inline otherwise.

Started by `celery -A chorus worker --beat`; its settings are the CELERY_* ones of
chorus/settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings")

app = Celery("chorus")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py (chorus, approvals, support, structures).
app.autodiscover_tasks()
