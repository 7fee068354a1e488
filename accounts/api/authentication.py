"""API token authentication: django-rest-knox (hashed, expiring tokens) bound to the user's password."""
from django.utils.crypto import constant_time_compare
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
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


class TokenScheme(KnoxTokenScheme):
    target_class = TokenAuthentication
    name = "tokenAuth"
