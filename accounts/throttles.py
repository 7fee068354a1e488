"""Login throttles shared by the admin login page and the API token endpoint (scope ``login``, per address)."""
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class LoginRateThrottle(SimpleRateThrottle):
    """Login attempts per client address, whatever the username (django-axes locks username + address)."""

    scope = "login"

    def get_rate(self):
        # Read on each request (not at import) so that a changed setting applies at once.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
