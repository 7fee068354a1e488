"""API token authentication: django-rest-knox (hashed, expiring tokens) bound to the user's password."""

import binascii

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from ..selectors import api_tokens_by_key


class TokenAuthentication(auth.TokenAuthentication):
    """``Authorization: Token <token>``. A token issued before the user's last password change is revoked
    (deleted) on its next use, whatever changed the password; an inactive user's tokens are refused."""

    def authenticate_credentials(self, token):
        # knox's own, with the tokens read by ``api_tokens_by_key`` (one query whose SQL is built once).
        token = token.decode("utf-8")
        for auth_token in api_tokens_by_key(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                break
            if constant_time_compare(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed("Invalid token.")

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
