"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app.

Two queues (README "Workers"): the default one for CPU-bound jobs on a prefork worker, and
``INTEGRATIONS_QUEUE`` for calls to outside systems on a threads worker. ``route_task``
sends the tasks listed in ``INTEGRATIONS_TASKS`` (names or globs) to the latter.
"""
import fnmatch
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("agencydesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def route_task(name, args, kwargs, options, task=None, **kw):
    """Integration tasks to the integrations queue; everything else to the default queue.

    Read at each call, so a test (or a bench) that points the queues elsewhere is followed at once.
    """
    from django.conf import settings

    queue = settings.INTEGRATIONS_QUEUE
    if queue and any(fnmatch.fnmatchcase(name, pattern) for pattern in settings.INTEGRATIONS_TASKS):
        return {"queue": queue}
    return None
