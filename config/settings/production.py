"""Production: secrets required, security flags on. Everything else is in base."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
BENCH_FLOOR = False  # the benchmarks' floor view (bench/floor.py) is never mounted here
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY.startswith("insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of at least 50 characters")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names this site serves")
# Without them each machine would generate its own development keys under var/ and could not read
# the personal data another machine (web or worker) wrote.
if not [key for key in PERSONAL_DATA_KEYS if key] or not PERSONAL_DATA_HASH_KEY:  # noqa: F405
    raise ImproperlyConfigured("PERSONAL_DATA_KEYS and PERSONAL_DATA_HASH_KEY must be set (personal data keys)")
# Anyone who reads the README knows the sandbox's webhook secret: with it they could make us sync any AMS customer.
if not AMS_WEBHOOK_SECRET or AMS_WEBHOOK_SECRET == SANDBOX_AMS_WEBHOOK_SECRET or len(AMS_WEBHOOK_SECRET) < 32:  # noqa: F405
    raise ImproperlyConfigured(
        "AMS_WEBHOOK_SECRET must be set to a random value of at least 32 characters, "
        "not the sandbox's (the secret the AMS signs its notifications with)"
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}  # noqa: F405
