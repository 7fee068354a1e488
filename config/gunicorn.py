"""gunicorn's settings for the web process (the Procfile's ``web`` line: ``gunicorn config.wsgi -c config/gunicorn.py``).

The worker class and counts were chosen by ``python -m bench load`` (docs/benchmarks.md, "Web workers and
database connections"); each can be changed by its environment variable without editing this file.
"""

import os

bind = f"127.0.0.1:{os.environ.get('AGENCYDESK_PORT', '8000')}"
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS") or 3)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
