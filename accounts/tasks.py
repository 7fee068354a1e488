from celery import shared_task

from . import selectors


@shared_task
def health_check_task() -> dict:
    """Report what the worker sees: its database and the audit log size (a round-trip probe)."""
    return selectors.system_health()
