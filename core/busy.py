"""Locked means "try again", never 500.

A write that waited its whole lock timeout (SQLite's ``database is locked`` after ``timeout`` seconds,
PostgreSQL's ``lock_timeout``, a serialization failure or a deadlock) changed nothing: the transaction was
rolled back. The person (or program) is told the product is busy and to send the same request again:
503 with ``Retry-After``. ``is_busy`` says whether an exception is such a wait; the API's exception
handler (core.api.exceptions) and ``BusyMiddleware`` (every other page, e.g. the admin) answer it.
A job's chunk is written again by ``busy_retried`` (a short bounded backoff) instead of failing the job.
"""

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is busy with other work and nothing was saved. Send the same request again in a few seconds."
# lock_not_available (lock_timeout, NOWAIT), serialization_failure, deadlock_detected
POSTGRESQL_BUSY = {"55P03", "40001", "40P01"}
SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (Django's wrapped error or the driver's own) is a lock wait that ran out."""
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if getattr(error, "sqlstate", None) in POSTGRESQL_BUSY:
            return True
        if isinstance(error, OperationalError | sqlite3.OperationalError) and str(error).startswith(SQLITE_BUSY):
            return True
    return False


T = TypeVar("T")
CHUNK_TRIES = 5  # a chunk meeting a busy database is written up to this many times...
CHUNK_FIRST_WAIT_SECONDS = 0.5  # ...waiting about 0.5, 1, 2, 4 s between tries (each also waited its lock timeout)


def busy_retried(work: Callable[[], T], *, what: str, tries: int = CHUNK_TRIES, first_wait: float = CHUNK_FIRST_WAIT_SECONDS) -> T:
    """``work()``, one short write transaction of a job (a chunk, a settle), run again when it met a busy
    database: its transaction rolled back, so it is simply written again after a short pause (doubling, with
    jitter), up to ``tries`` times; then the busy error is raised (the task's own retry, or the job's reason).

    ``work`` must open its own transaction: inside an outer one (a caller's, a test's) it runs once, as the
    outer transaction's owner decides what a busy error means.
    """
    for attempt in range(1, tries + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == tries or not is_busy(exc) or connection.in_atomic_block:
                raise
            pause = first_wait * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
            logger.warning("Busy (%s): %s written again in %.1f s (try %d of %d)", exc, what, pause, attempt + 1, tries)
            time.sleep(pause)
    raise AssertionError("unreachable")


class BusyMiddleware:
    """Answers a view's lock timeout with 503 + ``Retry-After``: the "busy, try again" page, or JSON for the
    API (whose DRF views answer it themselves; this is for its plain Django views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        logger.warning("Busy (%s): %s %s answered 503", exception, request.method, request.path)
        if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
            response = JsonResponse({"detail": MESSAGE, "code": "busy"}, status=503)
        else:
            # Rendered without a request context: no query (the database is the busy part).
            html = get_template("503.html").render({"title": "Busy, try again", "retry_after": RETRY_AFTER_SECONDS, "path": request.get_full_path()})
            response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
