"""Search criteria for people, on admin pages: one line, or label/value rows.

Renders through ``individuals.filters.criteria_labels`` — the one criteria renderer — so a page never
shows stored JSON or codes.
"""
from django.core.exceptions import ValidationError

from ..filters import criteria_labels, criteria_load

EVERY_INDIVIDUAL = "Every individual (no criteria)"


def criteria_items(criteria, version: int | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` rows; ``version`` set -> stored criteria, upgraded first."""
    if not isinstance(criteria, dict):
        return []
    try:
        criteria = criteria_load(criteria, version) if version is not None else criteria
        return criteria_labels(criteria)
    except ValidationError:
        return [("Criteria", "could not be read (saved by an older release)")]


def criteria_text(criteria, version: int | None = None) -> str:
    return "; ".join(f"{label}: {value}" for label, value in criteria_items(criteria, version)) or EVERY_INDIVIDUAL
