"""The Individual Advanced Search: the FilterSet (``filterset``) and the criteria it reads (``criteria``).

Callers validate, store and describe criteria through ``criteria``; the FilterSet is wiring for the
admin changelist and the API schema.
"""

from .criteria import (
    CRITERIA_VERSION,
    criteria_authorize,
    criteria_clean,
    criteria_dict,
    criteria_errors,
    criteria_filterset,
    criteria_labels,
    criteria_load,
    criteria_public,
    criteria_sealed,
    criteria_shown,
    criteria_text,
    personal_data_in_url,
)
from .filterset import MAX_VALUE_LENGTH, NON_CRITERIA_PARAMS, POLICY_FILTERS, IndividualFilterSet

__all__ = [
    "CRITERIA_VERSION",
    "MAX_VALUE_LENGTH",
    "NON_CRITERIA_PARAMS",
    "POLICY_FILTERS",
    "IndividualFilterSet",
    "criteria_clean",
    "criteria_dict",
    "criteria_errors",
    "criteria_filterset",
    "criteria_labels",
    "criteria_load",
    "criteria_public",
    "criteria_sealed",
    "criteria_shown",
    "criteria_text",
    "criteria_authorize",
    "personal_data_in_url",
]
