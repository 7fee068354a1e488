"""Every write of hrsync. Employees and levels in ``employees``; the sync queue in ``sync``."""

from .census import employee_census_import
from .employees import (
    benefits_level_save,
    employee_create,
    employee_update,
    employees_assign_benefits_level,
    employees_import,
)
from .sync import (
    employee_sync_request,
    sync_attempt_run,
    sync_attempts_sweep,
)

__all__ = [
    "benefits_level_save",
    "employee_create",
    "employee_update",
    "employees_assign_benefits_level",
    "employees_import",
    "employee_census_import",
    "employee_sync_request",
    "sync_attempt_run",
    "sync_attempts_sweep",
]
