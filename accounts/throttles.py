"""Throttles: the login scope (admin login page and API token endpoint, per address) and the default
for every authenticated API request (scope ``user``, per user), counted in windows
(``core.api.throttling``)."""

from rest_framework.throttling import UserRateThrottle

from core.api.throttling import FailureThrottle, FixedWindowThrottle


class LoginRateThrottle(FailureThrottle):
    """Failed logins per client address, whatever the username (django-axes locks username + address);
    counted by ``accounts.receivers`` when a login is refused. A successful login is never counted."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthenticatedUserRateThrottle(UserRateThrottle, FixedWindowThrottle):
    """``THROTTLE_USER`` requests per signed-in user; anonymous requests are refused (401) before it matters."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
