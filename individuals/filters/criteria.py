"""Search criteria: the one place that validates, stores, upgrades and describes advanced-search criteria.

Every entry point goes through here -- the admin search, the API list and ``search/``, exports, saved
searches, mass-creation jobs and workflows -- so one rule holds everywhere: an unknown key or a value
that does not fit is an error naming the criterion, never dropped (a dropped criterion widens the search).

- ``criteria_filterset(data)``: a valid ``IndividualFilterSet`` for a search now, or ``ValidationError``.
- ``criteria_clean(data)``: the shape that is stored and put in URLs: validated, page keys and criteria
  left at their default dropped, clear SSN / MBI / driver's license replaced by keyed hashes.
- ``criteria_shown(data)``: criteria that may be invalid, safe to show again or put in a link.
- ``criteria_load(criteria, version)``: stored criteria brought up to ``CRITERIA_VERSION``.
- ``criteria_labels(criteria)``: ``(label, value)`` rows for people (choice labels, formatted dates).
- ``criteria_authorize(actor=..., data=...)``: a search by SSN / MBI / driver's license needs its own
  right, is throttled per user and audited (a masked list must not become a guessing oracle).

Stored criteria carry ``criteria_version``. Renaming or reshaping a filter means: bump
``CRITERIA_VERSION`` and add an upgrade from the previous version to ``UPGRADES``; rows are upgraded
when read. Criteria that still do not fit after upgrading are refused (a job fails with the reason).
"""

import contextlib
import math
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django_filters import DateFromToRangeFilter

from core import display
from core.api.throttling import rate_take
from core.audit import audit
from core.errors import RateLimited
from core.models import AuditLog

from .. import personal_data
from ..models import CRITERIA_VERSION, Individual
from .filterset import NON_CRITERIA_PARAMS, IndividualFilterSet

NOT_AN_OBJECT = "Expected an object of search criteria (a JSON object, keys as the individuals list's parameters)."


def criteria_dict(data) -> dict:
    """Criteria as a plain JSON-able dict (one value, or a list when repeated) from a query string or a
    dict; a query string's page keys (``page``, ``o``, ...) are left out."""
    if hasattr(data, "lists"):
        return {k: (v[0] if len(v) == 1 else v) for k, v in data.lists() if k not in NON_CRITERIA_PARAMS}
    return dict(data)


def _check_object(data) -> None:
    if not isinstance(data, dict) and not hasattr(data, "lists"):
        raise ValidationError({"criteria": NOT_AN_OBJECT})


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


def criteria_errors(filterset: IndividualFilterSet) -> dict[str, list[str]]:
    """Errors of an invalid search keyed by criterion (``__all__`` -> ``non_field_errors``)."""
    return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in filterset.errors.items()}


def criteria_filterset(data, *, queryset: QuerySet | None = None, request=None, custom_fields=None) -> IndividualFilterSet:
    """A bound, valid FilterSet over ``queryset`` (default: every individual) for ``data``.

    Raises ``ValidationError`` keyed by criterion: unknown key, invalid value, too long, not an object.
    """
    _check_object(data)
    filterset = IndividualFilterSet(data=data, queryset=queryset, request=request, custom_fields=custom_fields)
    if not filterset.is_valid():
        raise ValidationError(criteria_errors(filterset))
    return filterset


def _hash_personal_data(criteria: dict, *, sealed: bool = False) -> dict:
    """Clear SSN / MBI / driver's license replaced by keyed hashes (``ValidationError`` when malformed);
    ``sealed``: each key sealed (``personal_data.seal``), as URLs and pages carry it."""
    result = {k: v for k, v in criteria.items() if k not in personal_data.KINDS}
    for kind in personal_data.KINDS:
        value = criteria.get(kind)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if value:
            key = personal_data.hash_value(kind, value)
            result[f"{kind}_hash"] = personal_data.seal(key) if sealed else key
    return result


def criteria_sealed(criteria: dict) -> dict:
    """Criteria as a URL carries them: each personal-data key sealed, never the plain hash (one sealed
    already is kept as it is)."""
    return {k: personal_data.seal(v) if _is_personal_key(k) and v and not str(v).startswith(personal_data.SEALED) else v for k, v in criteria.items()}


def _is_personal_key(name: str) -> bool:
    return name.endswith("_hash") and name.removesuffix("_hash") in personal_data.KINDS


def criteria_clean(data) -> dict:
    """Criteria ready to store or put in a URL: validated, blank values and criteria left at their default
    (a yes/no at "unknown") dropped, clear personal data as keyed hashes. A JSON object's keys are all
    criteria (a page key there is unknown); a query string's page keys are left out.

    Raises ``ValidationError`` keyed by criterion; nothing is dropped that would have narrowed the search.
    """
    _check_object(data)
    given = {k: v for k, v in criteria_dict(data).items() if not _blank(v)}
    if not hasattr(data, "lists"):
        paging = sorted(k for k in given if k in NON_CRITERIA_PARAMS)
        if paging:
            raise ValidationError({k: [f"Unknown search criterion {k!r}."] for k in paging})
    filterset = criteria_filterset(given, queryset=Individual.objects.none())
    values = filterset.form.cleaned_data
    keys = filterset.criterion_keys()
    kept = {k: v for k, v in given.items() if not _default(values.get(keys[k]))}
    return _hash_personal_data(kept)


def _default(value) -> bool:
    if isinstance(value, slice):
        return value.start is None and value.stop is None
    return _blank(value)


def criteria_shown(data) -> dict:
    """Criteria that may be invalid, as they may be shown again or put in a link: page keys and blanks
    dropped, clear personal data hashed, or left out when malformed (it is never echoed)."""
    if not isinstance(data, dict) and not hasattr(data, "lists"):
        return {}
    given = {k: v for k, v in criteria_dict(data).items() if not _blank(v)}
    shown = {k: v for k, v in given.items() if k not in personal_data.KINDS}
    for kind in personal_data.KINDS:
        with contextlib.suppress(ValidationError):
            shown.update(_hash_personal_data({kind: given.get(kind)}, sealed=True))
    return criteria_sealed(shown)


# --- searching by personal data --------------------------------------------------------------------
SEARCH_BY_PERSONAL_DATA = "accounts.search_by_personal_data"
NEEDS_RIGHT = (
    "Searching by SSN, Medicare beneficiary ID or driver's license needs the 'Search by SSN, Medicare beneficiary ID or driver's license' right."
)


NOT_SHOWN = "(saved, not shown)"


def criteria_public(criteria: dict) -> dict:
    """Criteria as anyone may see them: a personal-data key (hash) becomes ``{kind: "(saved, not shown)"}``.

    A keyed hash is never shown (API, admin, audit log): compared with the hash of a guess, it would tell
    the value without a search."""
    shown = {k: v for k, v in criteria.items() if not _is_personal_key(k)}
    shown.update({kind: NOT_SHOWN for kind in personal_data.KINDS if criteria.get(f"{kind}_hash")})
    return shown


def personal_data_in_url(query) -> list[str]:
    """Clear SSN / MBI / driver's license given in a query string: refused everywhere (use a POST body)."""
    return [k for k in personal_data.KINDS if k in query]


def criteria_personal_kinds(data) -> list[str]:
    """The personal-data kinds searched for (clear or as keyed hashes) in ``data``."""
    if not isinstance(data, dict) and not hasattr(data, "lists"):
        return []
    return [k for k in personal_data.KINDS if not _blank(data.get(k)) or not _blank(data.get(f"{k}_hash"))]


def _rate() -> tuple[int, int]:
    count, _, period = settings.INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE.partition("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[:1]]


def criteria_authorize(*, actor, data, how: str) -> list[str]:
    """Check, count and audit a search of ``data`` by ``actor`` when it names SSN / MBI / driver's license.

    Returns the kinds searched (``[]``: nothing to check). Raises ``PermissionDenied`` without the
    'search by personal data' right, ``RateLimited`` past ``INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE``
    searches per user. Each allowed search writes one audit row (the kinds and where, never a value).
    """
    kinds = criteria_personal_kinds(data)
    if not kinds:
        return []
    if actor is None or not actor.has_perm(SEARCH_BY_PERSONAL_DATA):
        raise PermissionDenied(NEEDS_RIGHT)
    limit, period = _rate()
    # Every use counts, whatever it is for (a search, a save, an export, a job): one budget per user.
    wait = rate_take(f"individuals:pd-criteria:{actor.pk}", limit=limit, period=period)
    if wait is not None:
        raise RateLimited(
            f"Too many uses of personal data as a criterion: at most {limit} per "
            f"{settings.INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE.partition('/')[2]}. Try again later.",
            math.ceil(wait),
        )
    labels = ", ".join(personal_data.LABELS[k] for k in kinds)
    audit(
        actor=actor,
        action=AuditLog.Action.SEARCH,
        model=Individual,
        object_repr="Individuals search",
        summary=f"Searched individuals by {labels} ({how})",
        data={"fields": kinds, "how": how},
    )
    return kinds


# --- versions --------------------------------------------------------------------------------------
def _v1_to_v2(criteria: dict) -> dict:
    """Version 1 (before criteria were strict) read a blank value or a yes/no at "unknown" as "not given";
    version 2 refuses them. Any other value version 1 ignored (``has_policy: perhaps``) now fails the
    search instead of widening it."""
    return {k: v for k, v in criteria.items() if not _blank(v) and v != "unknown"}


UPGRADES: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}


def criteria_load(criteria, version: int | None) -> dict:
    """Stored ``criteria`` of ``version`` upgraded to ``CRITERIA_VERSION`` (not yet validated: run them
    through ``criteria_filterset``). Raises ``ValidationError`` when they cannot be read."""
    if not isinstance(criteria, dict):
        raise ValidationError({"criteria": "The stored criteria are not an object."})
    if not isinstance(version, int) or not 1 <= version <= CRITERIA_VERSION:
        raise ValidationError({"criteria": f"The criteria were saved as version {version}; this release reads versions 1 to {CRITERIA_VERSION}."})
    criteria = dict(criteria)
    while version < CRITERIA_VERSION:
        upgrade = UPGRADES.get(version)
        if upgrade is None:
            raise ValidationError({"criteria": f"No upgrade from criteria version {version}."})
        criteria, version = upgrade(criteria), version + 1
    return criteria


# --- for people ------------------------------------------------------------------------------------
def _text(value, *, dates: bool = False) -> str:
    if hasattr(value, "hour") and not dates:
        return display.datetime_text(value)
    if hasattr(value, "year"):
        return display.date_text(value)
    return str(value)


def _value_text(f, value) -> str:
    """A cleaned criterion as a person reads it; "" when it is at its default (not shown)."""
    if _default(value):
        return ""
    if isinstance(value, bool):
        return getattr(f, "choice_labels", {}).get(value) or ("Yes" if value else "No")
    if isinstance(value, slice):  # a date range's ends are datetimes at the start and end of the day
        dates = isinstance(f, DateFromToRangeFilter)
        start, stop = (_text(v, dates=dates) if v is not None else None for v in (value.start, value.stop))
        if start and stop:
            return f"{start} to {stop}"
        return f"from {start}" if start else f"up to {stop}"
    if isinstance(value, QuerySet | list | tuple):
        choices = f.extra.get("choices")
        labels = dict(choices() if callable(choices) else choices or [])
        return ", ".join(str(labels.get(v, v)) for v in value)
    return _text(value)


def _label(f, name: str) -> str:
    return str(f.label or name.replace("_", " ").capitalize())


def criteria_labels(criteria: dict) -> list[tuple[str, str]]:
    """``(label, value)`` per criterion, in the search form's order: choice labels not codes, dates
    formatted, criteria at their default left out, personal data as "given, not shown"."""
    if not criteria:
        return []
    filterset = IndividualFilterSet(data=criteria, queryset=Individual.objects.none())
    valid = filterset.is_valid()
    keys = filterset.criterion_keys()
    rows = []
    for kind in personal_data.KINDS:
        if criteria.get(kind) or criteria.get(f"{kind}_hash"):
            rows.append((f"{personal_data.LABELS[kind][0].upper()}{personal_data.LABELS[kind][1:]} (exact)", "given, not shown"))
    personal = {*personal_data.KINDS, *(f"{k}_hash" for k in personal_data.KINDS)}
    given = {keys.get(k) for k in filterset.data if k not in personal}
    for name, f in filterset.filters.items():
        if name not in given:
            continue
        if valid:
            text = _value_text(f, filterset.form.cleaned_data.get(name))
        else:  # shown as given, so a person can see what to correct
            text = "; ".join(
                f"{k.removeprefix(name).lstrip('_') or 'value'}: {v}" if k != name else str(v)
                for k, v in filterset.data.items()
                if keys.get(k) == name
            )
        if text:
            rows.append((_label(f, name), text))
    rows += [(k, str(v)) for k, v in filterset.data.items() if k not in keys and k not in NON_CRITERIA_PARAMS]
    return rows


EVERY_INDIVIDUAL = "Every individual (no criteria)"


def criteria_text(criteria: dict) -> str:
    """The criteria on one line for people ("State: Florida; Coverage types: Medicare Advantage")."""
    return "; ".join(f"{label}: {value}" for label, value in criteria_labels(criteria)) or EVERY_INDIVIDUAL
