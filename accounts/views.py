"""Pages of accounts outside the admin's own views: the throttled admin login."""
from django.contrib import admin
from django.template.response import TemplateResponse

from .throttles import LoginRateThrottle


def admin_login(request, extra_context=None):
    """The admin login page, with the login throttle on every attempt (POST); 429 once it is exceeded."""
    if request.method == "POST":
        throttle = LoginRateThrottle()
        if not throttle.allow_request(request, None):
            wait = int(throttle.wait() or 60)
            message = f"Too many login attempts from your address. Try again in {wait} seconds."
            context = {**admin.site.each_context(request), "title": "Login refused", "message": message}
            response = TemplateResponse(request, "accounts/locked_out.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, extra_context)
