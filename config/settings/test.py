"""Test settings: eager Celery unless a test starts a real worker; fast password hashing."""

import os

from .base import *  # noqa: F403
from .base import env

# Playwright's sync API runs an event loop in the test thread; the ORM calls it makes are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "login": "1000/min",
        "export": "1000/min",
        "bulk": "1000/min",
        "user": "100000/min",
        "ams_webhook": "100000/min",
    },
}
if not REDIS_URL:  # noqa: F405
    CELERY_RESULT_BACKEND = "cache+memory://"  # eager tasks keep results in memory, not under var/
# The sandbox AMS signs with its public secret; production settings refuse it.
AMS_WEBHOOK_SECRET = env.str("AMS_WEBHOOK_SECRET", default=SANDBOX_AMS_WEBHOOK_SECRET)  # noqa: F405
