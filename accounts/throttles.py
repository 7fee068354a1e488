"""Throttles: the login scope (admin login page and API token endpoint, per address) and the default
for every authenticated API request (scope ``user``, per user). Rates are read from the settings on
each request (DRF's own classes read them once, at import)."""
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class SettingsRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class LoginRateThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Login attempts per client address, whatever the username (django-axes locks username + address)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthenticatedUserRateThrottle(SettingsRateMixin, UserRateThrottle):
    """``THROTTLE_USER`` requests per signed-in user; anonymous requests are refused (401) before it matters."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
