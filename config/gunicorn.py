"""gunicorn's settings for the web process (the Procfile's ``web`` line: ``gunicorn config.wsgi -c config/gunicorn.py``).

Chosen by ``python -m bench load`` (docs/benchmarks.md, "Web workers and database connections"): 3
processes of 4 threads each (gthread), each process with a psycopg pool of at most 4 PostgreSQL
connections. A thread waiting on PostgreSQL or Redis lets another run, where a sync worker sat idle;
a slow request (a quick search, an admin page) holds one thread, not a whole process. Each value can be
changed by its environment variable without editing this file.
"""

import os

bind = f"127.0.0.1:{os.environ.get('AGENCYDESK_PORT', '8000')}"
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS") or 3)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The web processes' database connections: a pool as large as their threads (settings.DATABASE_POOL_SIZE);
# the Celery workers keep theirs per thread (CONN_MAX_AGE), the integrations worker having 16 threads.
raw_env = [f"DATABASE_POOL_SIZE={os.environ.get('DATABASE_POOL_SIZE') or threads}"]
