"""Local development and demo: the embedded default with debug on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The sandbox AMS signs with its public secret; production settings refuse it.
AMS_WEBHOOK_SECRET = env.str("AMS_WEBHOOK_SECRET", default=SANDBOX_AMS_WEBHOOK_SECRET)  # noqa: F405
