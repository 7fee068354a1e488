"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app.

Two queues (README "Workers"): the default one for CPU-bound jobs on a prefork worker, and
``INTEGRATIONS_QUEUE`` for calls to outside systems on a threads worker. ``route_task``
sends the tasks listed in ``INTEGRATIONS_TASKS`` (names or globs) to the latter.
"""

import fnmatch
import logging
import os

from celery import Celery, Task, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
logger = logging.getLogger("core.busy")
BUSY_RETRY_SECONDS = 10  # then 20, 30, ...: a task that met a busy database runs again after this
BUSY_MAX_RETRIES = 12


class BusyRetryingTask(Task):
    """Every task: one whose transaction met a busy database (a lock wait that ran out, ``core.busy.is_busy``)
    is sent again after a pause, as a person is told to "try again", instead of failing.

    The transaction it was in rolled back, so the chunk it was writing is written again by the next run
    (tasks are idempotent: ids in, the job's own state says where it is). Not when eager or called as a
    function: the caller (a request or a test) gets the error itself.
    """

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            from core.busy import is_busy

            request = self.request
            if request.called_directly or request.is_eager or not is_busy(exc) or request.retries >= BUSY_MAX_RETRIES:
                raise
            countdown = BUSY_RETRY_SECONDS * (request.retries + 1)
            logger.warning("Busy (%s): %s[%s] runs again in %ss", exc, self.name, request.id, countdown)
            raise self.retry(exc=exc, countdown=countdown, max_retries=BUSY_MAX_RETRIES) from exc


app = Celery("agencydesk", task_cls=BusyRetryingTask)
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
