"""A refused page says which right is missing, and is logged as one line, not a traceback."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import get_resolver

from .rights import denial_message

# Admin URL names end in the view; the permission each one needs (a change page only looked at needs view).
ADMIN_VIEW_ACTIONS = {"changelist": "view", "history": "view", "add": "add", "change": "change", "delete": "delete"}


def admin_denial_message(request) -> str:
    """For an admin model page: "You need Edit on Individuals to add individuals." (empty otherwise)."""
    match = request.resolver_match
    if match is None or match.namespace != "admin" or not request.user.is_authenticated:
        return ""
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if match.url_name and match.url_name.startswith(prefix):
            action = ADMIN_VIEW_ACTIONS.get(match.url_name[len(prefix) :])
            if action == "change" and request.method in ("GET", "HEAD"):
                action = "view"
            if action:
                return denial_message(request.user, [f"{model._meta.app_label}.{action}_{model._meta.model_name}"])
    return ""


class PermissionDeniedMiddleware:
    """Answers a view's ``PermissionDenied`` with the 403 page naming the missing right.

    Django would log it with its traceback (``django.request``); answered here, the 403 is logged as
    the one "Forbidden: <path>" warning every 4xx response gets.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied) or type(exception).__module__.startswith("axes"):
            return None
        message = str(exception) or admin_denial_message(request) or "You don't have the right to do this."
        return get_resolver().resolve_error_handler(403)(request, PermissionDenied(f"{message} {who_grants()}".strip()))


def who_grants() -> str:
    """Whom to ask for a right: "Ann Lee or Bob Ray can change your security group." ("" when nobody can)."""
    from .selectors import rights_granters

    names = rights_granters()
    if not names:
        return ""
    people = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"{people} can change your security group (they manage users and security groups)."
