"""gunicorn's settings for the web process (the Procfile's ``web`` line: ``gunicorn config.wsgi -c config/gunicorn.py``).

Chosen by ``python -m bench load`` (docs/benchmarks.md, "Web workers and database connections"): sync
workers, one request per process, ``4 x cores + 2`` processes (10 on 2 cores), each with a psycopg pool
of one PostgreSQL connection. With threads (gthread), a request that waits on PostgreSQL must win the
GIL back from its process's busy threads at every query, so an API page of a few milliseconds queued
behind an admin page rendering beside it; separate processes share the cores the way the kernel shares
them, and a short request stays short. The count is set so that the people working at once rarely wait
for a free process; each process costs about 120 MB. Each value can be changed by its environment
variable without editing this file.
"""

import os

bind = f"127.0.0.1:{os.environ.get('AGENCYDESK_PORT', '8000')}"
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS") or 4 * (os.cpu_count() or 1) + 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The web processes' database connections: a pool as large as their threads (settings.DATABASE_POOL_SIZE):
# no health-check round trip before each request. The Celery workers keep theirs per thread (CONN_MAX_AGE).
raw_env = [f"DATABASE_POOL_SIZE={os.environ.get('DATABASE_POOL_SIZE') or threads}"]
