"""Criteria as data: what a search, a saved search or a job stores, and its clean JSON shape."""
import datetime
from decimal import Decimal

from .. import personal_data

# Query-string keys that belong to the page, not to the search (API paging/sorting, admin changelist).
NON_CRITERIA_PARAMS = frozenset({
    "page", "page_size", "cursor", "ordering", "format", "reveal", "with_count",
    "o", "p", "e", "q", "all", "_changelist_filters", "_popup", "_to_field", "_facets",
})

# The criteria matched together against one policy (one EXISTS), for callers that describe a search.
POLICY_FILTERS = ("coverage_type", "policy_status", "policy_effective", "policy_renewal", "carrier", "policy_number")


def criteria_dict(data) -> dict:
    """Criteria as a plain JSON-able dict (one value, or a list when repeated) from a QueryDict or dict."""
    if hasattr(data, "lists"):
        return {k: (v[0] if len(v) == 1 else v) for k, v in data.lists() if k not in NON_CRITERIA_PARAMS}
    return {k: v for k, v in data.items() if k not in NON_CRITERIA_PARAMS}



def plain_criteria(data: dict) -> tuple[dict, list[str]]:
    """JSON criteria as the form fields expect them (text, or lists of text), and the keys whose value is
    neither a scalar nor a flat list (an object, a nested list): those are reported as errors, not a 500."""
    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float | Decimal):
            return str(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        return "" if v is None else v

    plain, bad = {}, []
    for key, value in data.items():
        if isinstance(value, list | tuple):
            value = [text(v) for v in value]
            ok = all(isinstance(v, str) for v in value)
        else:
            value = text(value)
            ok = isinstance(value, str)
        if ok:
            plain[key] = value
        else:
            bad.append(key)
    return plain, bad



def criteria_without_personal_data(criteria: dict) -> dict:
    """``criteria`` with clear SSN / MBI / driver's license replaced by their keyed hashes.

    For anything that puts criteria in a URL or stores them (saved searches, job rows, redirects).
    Raises ``ValidationError({kind: ...})`` when a value is malformed.
    """
    criteria = criteria_dict(criteria)
    result = {k: v for k, v in criteria.items() if k not in personal_data.KINDS}
    for kind in personal_data.KINDS:
        value = criteria.get(kind)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if value:
            result[f"{kind}_hash"] = personal_data.hash_value(kind, value)
    return result
