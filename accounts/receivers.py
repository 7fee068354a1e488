"""Django auth signals, turned into service calls (the only signal use: auth has no other hook)."""
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from . import services


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    ip = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    services.login_failure_record(username=str(credentials.get("username", ""))[:150], ip=ip)
