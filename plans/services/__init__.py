"""Every write to employer groups, carriers and plans; import and export of them."""

from .imports import plans_export, plans_import
from .plans import (  # first: resources (used by imports) build on these
    GROUP_FIELDS,
    PLAN_FIELDS,
    TIERS,
    carrier_delete,
    employer_group_create,
    employer_group_delete,
    employer_group_numbers_taken,
    employer_group_prepare,
    employer_group_update,
    employer_groups_create_many,
    plan_create,
    plan_rates_validate,
    plan_renew,
    plan_update,
)

__all__ = [
    "GROUP_FIELDS",
    "PLAN_FIELDS",
    "TIERS",
    "carrier_delete",
    "employer_group_create",
    "employer_group_delete",
    "employer_group_numbers_taken",
    "employer_group_prepare",
    "employer_group_update",
    "employer_groups_create_many",
    "plan_create",
    "plan_rates_validate",
    "plan_renew",
    "plan_update",
    "plans_export",
    "plans_import",
]
