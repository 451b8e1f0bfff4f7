"""gunicorn settings for the portal (make prod-local, and the app servers in production:
see docs/deployment.md). Each value can be overridden from the environment."""

import os

try:
    # Imported with the configuration, in the master, as prometheus_client documents: an
    # import from the hook itself ran during shutdown and failed there with a traceback.
    from prometheus_client import multiprocess as prometheus_multiprocess
except ImportError:  # metrics are optional: no hook work without the package
    prometheus_multiprocess = None

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The usual (2 × CPU) + 1 synchronous workers: requests wait mostly on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# Recycling workers now and then bounds the effect of any slow memory growth.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# X-Forwarded-* headers are trusted only from these addresses (the load balancer).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """A dead worker's metrics files must be marked dead, or its gauges linger."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or prometheus_multiprocess is None or not os.path.isdir(directory):
        return
    try:
        prometheus_multiprocess.mark_process_dead(worker.pid, directory)
    except OSError:
        # The directory emptied by a concurrent shutdown: nothing is left to mark.
        pass
