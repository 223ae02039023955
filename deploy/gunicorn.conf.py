"""gunicorn settings for 链招: `gunicorn -c deploy/gunicorn.conf.py wsgi:app` (see deploy/README.md).

Every value can be overridden from the environment, so one file serves a small zone server and a
city deployment. The app keeps nothing in one process's memory that another process needs —
sessions are signed cookies, sign-in throttling counters live in Redis (RATELIMIT_STORAGE_URI),
data in PostgreSQL — so workers and machines can be added freely.
"""
import multiprocessing
import os

# Behind nginx on the same machine; nginx terminates TLS and forwards to this address.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the app is CPU-bound between short database calls. (2 × cores) + 1 is the usual
# starting point; the load test in bench/load.py ran 4 workers on 2 cores.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Long work (imports, the monthly ledger, gap reports) runs as jobs on the workers (deploy/lianzhao-worker.service),
# not in a request; nothing legitimate in a request takes 2 min.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# Build the app in the master and fork it (faster start, shared pages). Each worker opens its own
# database connections after the fork (SQLAlchemy's pool is created lazily, per process).
preload_app = True
# Requests: line and header limits well above what a form needs, far below abuse.
limit_request_line = 8190
limit_request_fields = 100
# Trust X-Forwarded-* only from the local proxy (the app's ProxyFix reads them).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No temp files on a slow disk for the worker heartbeat.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def post_fork(server, worker):
    """Connections opened in the master (by preload) must not be shared by the forked workers."""
    try:
        from crm.extensions import db
        from wsgi import app

        with app.app_context():
            db.engine.dispose(close=False)
    except Exception:  # the app may not be importable here in unusual layouts; workers still start
        server.log.warning("post_fork: could not dispose the inherited engine pool")
