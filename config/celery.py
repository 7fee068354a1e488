"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app.

Two queues (README "Workers"): the default one for CPU-bound jobs on a prefork worker, and
``INTEGRATIONS_QUEUE`` for calls to outside systems on a threads worker. ``route_task``
sends the tasks listed in ``INTEGRATIONS_TASKS`` (names or globs) to the latter.
"""
import fnmatch
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("agencydesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def close_old_db_connections(task=None, **kwargs):
    """Before each task, what Django does before each request: drop a connection that is broken or older
    than ``CONN_MAX_AGE`` (the next query then checks its health), and keep the others.

    Celery's own Django fixup closes every connection before and after every task (a new PostgreSQL
    connection per task, about half a worker's CPU on the benefits sync); ``CELERY_DB_REUSE_MAX`` in the
    settings turns that off, and this handler keeps the per-request semantics instead.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside its caller's request or test: its connection is the caller's
    from django.db import close_old_connections

    close_old_connections()


def route_task(name, args, kwargs, options, task=None, **kw):
    """Integration tasks to the integrations queue; everything else to the default queue.

    Read at each call, so a test (or a bench) that points the queues elsewhere is followed at once.
    """
    from django.conf import settings

    queue = settings.INTEGRATIONS_QUEUE
    if queue and any(fnmatch.fnmatchcase(name, pattern) for pattern in settings.INTEGRATIONS_TASKS):
        return {"queue": queue}
    return None
