"""Django auth signals, turned into service calls (the only signal use: auth has no other hook)."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from core.net import client_address

from . import services
from .throttles import LoginRateThrottle


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    ip = client_address(request) if request is not None else ""
    services.login_failure_record(username=str(credentials.get("username", ""))[:150], ip=ip)
    if request is not None:
        LoginRateThrottle().count_failure(request)
