"""What a locked-out login sees: the same answer whether or not the username exists (django-axes)."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

LOCKED_OUT_STATUS = 429


def lockout_message() -> str:
    minutes = settings.LOGIN_FAILURE_WINDOW_MINUTES
    return f"Too many failed logins for this username from your address. Try again in {minutes} minutes, or ask an administrator to unlock it."


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 with a message that names neither the user nor whether they exist (``AXES_LOCKOUT_CALLABLE``)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=LOCKED_OUT_STATUS)
    return TemplateResponse(
        request,
        "accounts/locked_out.html",
        {**admin.site.each_context(request), "title": "Login refused", "message": lockout_message()},
        status=LOCKED_OUT_STATUS,
    ).render()
