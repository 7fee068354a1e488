"""API token authentication: django-rest-knox (hashed, expiring tokens) bound to the user's password."""
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.signals import token_expired
from rest_framework import exceptions


class TokenAuthentication(auth.TokenAuthentication):
    """``Authorization: Token <token>``. A token issued before the user's last password change is revoked
    (deleted) on its next use, whatever changed the password; an inactive user's tokens are refused."""

    def validate_user(self, auth_token):
        user = auth_token.user
        if not constant_time_compare(auth_token.credentials_hash, user.get_session_auth_hash()):
            auth_token.delete()
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().validate_user(auth_token)

    def _cleanup_token(self, auth_token) -> bool:
        # This token's expiry only: knox also loads the user's other tokens on every request to delete
        # expired ones (a query per API request); those are refused anyway, and purged when a token is issued.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    target_class = TokenAuthentication
    name = "tokenAuth"
