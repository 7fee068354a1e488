"""One exception handler: Django ValidationError and ApplicationError become 400 with field errors; a database
lock wait that ran out becomes 503 with Retry-After (core.busy)."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.busy import MESSAGE, RETRY_AFTER_SECONDS, is_busy
from core.errors import ApplicationError, RateLimited

logger = logging.getLogger("core.busy")


class Busy(exceptions.APIException):
    """The database was busy: nothing was saved, send the same request again (DRF adds Retry-After from ``wait``)."""

    status_code = 503
    default_detail = MESSAGE
    default_code = "busy"

    def __init__(self):
        super().__init__()
        self.wait = RETRY_AFTER_SECONDS


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RateLimited):
        exc = exceptions.Throttled(wait=exc.wait, detail=exc.message)
    elif isinstance(exc, ApplicationError):
        exc = exceptions.ValidationError({"detail": exc.message, **exc.extra})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # a service's reason ("You need ...") is kept
    elif is_busy(exc):
        logger.warning("Busy (%s): %s %s answered 503", exc, context["request"].method, context["request"].path)
        exc = Busy()
    elif isinstance(exc, OverflowError):  # an id or number past what the database stores (SQLite: 64 bits)
        exc = exceptions.ValidationError({"non_field_errors": ["A number in the request is too large."]})
    return drf_exception_handler(exc, context)
