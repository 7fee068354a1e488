"""Writes of the benefits-admin link (re-exported by sub-domain)."""
from .accounts import account_import, accounts_refresh
from .choices import Row, plan_choices_preview, plan_choices_save
from .conflicts import conflict_resolve, plan_sync_request
from .sync import changes_intake, plan_sync_pass, run_group

__all__ = ["Row", "account_import", "accounts_refresh", "changes_intake", "conflict_resolve", "plan_choices_preview",
           "plan_choices_save", "plan_sync_pass", "plan_sync_request", "run_group"]
