"""Locked means "try again", never 500.

A write that waited its whole lock timeout (SQLite's ``database is locked`` after ``timeout`` seconds,
PostgreSQL's ``lock_timeout``, a serialization failure or a deadlock) changed nothing: the transaction was
rolled back. The person (or program) is told the product is busy and to send the same request again:
503 with ``Retry-After``. ``is_busy`` says whether an exception is such a wait; the API's exception
handler (core.api.exceptions) and ``BusyMiddleware`` (every other page, e.g. the admin) answer it.
"""

import logging
import sqlite3

from django.db import OperationalError
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
