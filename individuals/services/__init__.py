"""Every write of the individuals app, by concern, re-exported here (``from individuals.services import ...``).

- ``individuals``: individuals and policies (personal data encrypted on save, reveals audited);
- ``custom_fields``: custom field definitions;
- ``saved_searches``: saved searches (and who may see, change and share them);
- ``exports``: CSV exports, streamed or as jobs whose files are encrypted and expire;
- ``imports``: CSV / XLSX import and export through the resources.
"""

from .custom_fields import custom_field_check_change, custom_field_create, custom_field_delete, custom_field_save
from .exports import (
    FULL_PERSONAL_DATA,
    export_csv_blocks,
    export_job_create,
    export_job_delete,
    export_job_download,
    export_job_run,
    export_jobs_expire,
    export_jobs_sweep,
    individual_export_start,
)
from .imports import individuals_export_file, individuals_import
from .individuals import (
    individual_create,
    individual_delete,
    individual_prepare,
    individual_reveal,
    individual_save,
    individual_update,
    individuals_create_many,
    individuals_import_prepare,
    individuals_import_save,
    individuals_import_write,
    policies_import_save,
    policy_delete,
    policy_save,
)
from .saved_searches import (
    saved_search_can_change,
    saved_search_can_see,
    saved_search_can_share,
    saved_search_create,
    saved_search_delete,
    saved_search_list,
    saved_search_run,
    saved_search_update,
    saved_search_urls,
)

__all__ = [
    "FULL_PERSONAL_DATA",
    "custom_field_check_change",
    "custom_field_create",
    "custom_field_delete",
    "custom_field_save",
    "export_csv_blocks",
    "export_job_create",
    "export_job_delete",
    "export_job_download",
    "export_job_run",
    "export_jobs_expire",
    "export_jobs_sweep",
    "individual_create",
    "individual_delete",
    "individual_export_start",
    "individual_prepare",
    "individual_reveal",
    "individual_save",
    "individual_update",
    "individuals_create_many",
    "individuals_export_file",
    "individuals_import",
    "individuals_import_prepare",
    "individuals_import_save",
    "individuals_import_write",
    "policies_import_save",
    "policy_delete",
    "policy_save",
    "saved_search_can_change",
    "saved_search_can_see",
    "saved_search_can_share",
    "saved_search_create",
    "saved_search_delete",
    "saved_search_list",
    "saved_search_run",
    "saved_search_update",
    "saved_search_urls",
]
