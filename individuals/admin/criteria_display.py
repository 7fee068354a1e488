"""Search criteria for people, on admin pages (one line, or label/value rows).

Renders through ``individuals.saved_searches.criteria_labels`` — the one criteria renderer — so a page
never shows the stored JSON.
"""
from ..saved_searches import criteria_labels

EVERY_INDIVIDUAL = "Every individual (no criteria)"


def criteria_items(criteria) -> list[tuple[str, str]]:
    if not isinstance(criteria, dict):
        return []
    return criteria_labels({k: v for k, v in criteria.items() if k != "o" and v not in ("", None, [])})


def criteria_text(criteria) -> str:
    return "; ".join(f"{label}: {value}" for label, value in criteria_items(criteria)) or EVERY_INDIVIDUAL
