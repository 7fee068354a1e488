"""Writes of the benefits-admin link (re-exported by sub-domain)."""

from .accounts import account_import, accounts_refresh
from .choices import Row, plan_choices_preview, plan_choices_save
from .conflicts import conflict_resolve, plan_sync_request
from .edits import plan_changed
from .intake import changes_intake
from .runs import plan_sync_pass, plan_sync_queue, plan_sync_run, plan_sync_sweep

__all__ = [
    "Row",
    "account_import",
    "accounts_refresh",
    "changes_intake",
    "conflict_resolve",
    "plan_changed",
    "plan_choices_preview",
    "plan_choices_save",
    "plan_sync_pass",
    "plan_sync_queue",
    "plan_sync_request",
    "plan_sync_run",
    "plan_sync_sweep",
]
