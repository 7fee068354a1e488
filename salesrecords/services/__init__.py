"""Every write of the sales records app (re-exported from its modules)."""

from .mass_create import (
    mass_creation_job_create,
    mass_creation_jobs_sweep,
    mass_creation_preview,
    mass_creation_resume,
    mass_creation_run,
)
from .records import (
    activity_complete,
    salesrecord_convert,
    salesrecord_delete,
    salesrecord_save,
    salesrecords_convert,
    salesrecordtype_limit_check,
    salesrecordtype_save,
    salesworkflow_save,
)

__all__ = [
    "activity_complete",
    "mass_creation_job_create",
    "mass_creation_jobs_sweep",
    "mass_creation_preview",
    "mass_creation_resume",
    "mass_creation_run",
    "salesrecord_convert",
    "salesrecord_delete",
    "salesrecord_save",
    "salesrecords_convert",
    "salesrecordtype_limit_check",
    "salesrecordtype_save",
    "salesworkflow_save",
]
