"""Error pages in the product's frame: what happened, which right is missing, and a way back."""

from django.contrib import admin
from django.http import HttpResponseServerError
from django.template.loader import get_template
from django.template.response import TemplateResponse

GENERIC_403 = "Your security group does not give you the right to open this page."


def _frame(request, template, status, **context):
    base = admin.site.each_context(request) if getattr(request, "user", None) and request.user.is_authenticated else {}
    back = request.META.get("HTTP_REFERER", "")
    return TemplateResponse(
        request, template, {**base, "back_url": back if back.startswith(("/", request.build_absolute_uri("/"))) else "", **context}, status=status
    )


def permission_denied(request, exception=None):
    message = str(exception or "").strip() or GENERIC_403
    return _frame(request, "403.html", 403, title="You may not open this page", message=message, exception=message)


def page_not_found(request, exception=None):
    return _frame(request, "404.html", 404, title="Not found", path=request.path)


def server_error(request):
    # No context processors, no database: the failure may be there.
    return HttpResponseServerError(get_template("500.html").render({"title": "Something went wrong"}))
