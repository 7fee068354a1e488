"""Pages of accounts outside the admin's own views: the throttled admin login, setting a password."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy

from core.api.throttling import retry_after

from .services import user_password_save
from .throttles import LoginRateThrottle


def admin_login(request, extra_context=None):
    """The admin login page, with the login throttle on every attempt (POST); 429 once it is exceeded."""
    if request.method == "POST":
        throttle = LoginRateThrottle()
        if not throttle.allow_request(request, None):
            wait = retry_after(throttle)
            message = f"Too many login attempts from your address. Try again in {wait} seconds."
            context = {**admin.site.each_context(request), "title": "Login refused", "message": message}
            response = TemplateResponse(request, "accounts/locked_out.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, extra_context)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """An invitation's link: the user chooses a password (validated by the site's rules; audited)."""

    success_url = reverse_lazy("set-password-done")
    title = "Choose your password"

    def form_valid(self, form):
        user = form.save(commit=False)
        user_password_save(actor=user, user=user)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    title = "Password set"
