"""Saved searches: advanced-search criteria kept under a name, private or shared (services and selectors).

Rules: anyone who may see individuals may save searches; a search is seen by its owner, and by
everyone who may see individuals when it is shared; only the owner renames, re-shares or deletes
it. Criteria are validated with ``IndividualFilterSet`` and stored without clear personal data
(``filters.criteria_without_personal_data``): never the result list.
"""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from accounts.services import record_delete, record_save

from . import personal_data
from .filters import IndividualFilterSet, criteria_dict, criteria_without_personal_data
from .models import Individual, SavedSearch
from .selectors import filterset_errors

VIEW_INDIVIDUALS = "individuals.view_individual"


# --- selectors -------------------------------------------------------------------------------------
def saved_search_list(*, user: User) -> QuerySet:
    """The user's own searches and every shared one (none without the Individuals view right)."""
    if not user.has_perm(VIEW_INDIVIDUALS):
        return SavedSearch.objects.none()
    return SavedSearch.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def saved_search_can_see(*, user: User, saved_search: SavedSearch) -> bool:
    return user.has_perm(VIEW_INDIVIDUALS) and (saved_search.owner_id == user.pk or saved_search.shared)


def saved_search_can_change(*, user: User, saved_search: SavedSearch) -> bool:
    return user.has_perm(VIEW_INDIVIDUALS) and saved_search.owner_id == user.pk


def saved_search_urls(saved_search: SavedSearch) -> dict[str, str]:
    """Where its criteria are run: the API list and the admin changelist (hashes only, never clear data)."""
    query = urlencode(saved_search.criteria, doseq=True)
    suffix = f"?{query}" if query else ""
    return {
        "api": reverse("api:individual-list") + suffix,
        "admin": reverse("admin:individuals_individual_changelist") + suffix,
    }


# --- criteria ------------------------------------------------------------------------------------
def criteria_clean(criteria) -> dict:
    """Criteria ready to store: page keys and empty values dropped, personal data hashed, validated.

    Raises ``ValidationError`` keyed by criterion (``non_field_errors`` for unknown keys).
    """
    if not isinstance(criteria, dict) and not hasattr(criteria, "lists"):
        raise ValidationError({"criteria": "Expected an object of search criteria."})
    cleaned = {k: v for k, v in criteria_dict(criteria).items() if v not in ("", [], None)}
    cleaned = criteria_without_personal_data(cleaned)
    filterset = IndividualFilterSet(data=cleaned, queryset=Individual.objects.none())
    if not filterset.is_valid():
        raise ValidationError(filterset_errors(filterset))
    # Drop what searches for nothing (e.g. a yes/no criterion left at "unknown" by the admin form).
    values = filterset.form.cleaned_data
    return {k: v for k, v in cleaned.items() if not _is_empty(values.get(_filter_name(k, values)))}


def _filter_name(key: str, values: dict) -> str:
    if key in values:
        return key
    for suffix in ("_after", "_before", "_min", "_max"):
        if key.endswith(suffix) and key[: -len(suffix)] in values:
            return key[: -len(suffix)]
    return key


def _is_empty(value) -> bool:
    if isinstance(value, slice):
        return value.start is None and value.stop is None
    return value is None or value == "" or value == [] or value == ()


# --- services ------------------------------------------------------------------------------------
def _check_owner(actor: User, saved_search: SavedSearch) -> None:
    if not saved_search_can_change(user=actor, saved_search=saved_search):
        raise PermissionDenied("Only its owner may change or delete a saved search.")


@transaction.atomic
def saved_search_create(*, actor: User, name: str, criteria, shared: bool = False) -> SavedSearch:
    """Save ``criteria`` under ``name`` for ``actor`` (private unless ``shared``).

    Raises ``PermissionDenied`` without the Individuals view right, ``ValidationError`` for invalid
    criteria or a name the owner already uses; nothing is written then.
    """
    if not actor.has_perm(VIEW_INDIVIDUALS):
        raise PermissionDenied
    saved_search = SavedSearch(owner=actor, name=(name or "").strip(), shared=bool(shared),
                               criteria=criteria_clean(criteria))
    return record_save(actor=actor, instance=saved_search)


@transaction.atomic
def saved_search_update(*, actor: User, saved_search: SavedSearch, name: str | None = None,
                        shared: bool | None = None, criteria=None) -> SavedSearch:
    """Rename, share / unshare or replace the criteria of the actor's own saved search.

    Raises ``PermissionDenied`` for anyone but the owner, ``ValidationError`` for bad values.
    """
    _check_owner(actor, saved_search)
    changed = []
    if name is not None and name.strip() != saved_search.name:
        saved_search.name = name.strip()
        changed.append("name")
    if shared is not None and bool(shared) != saved_search.shared:
        saved_search.shared = bool(shared)
        changed.append("shared")
    if criteria is not None:
        cleaned = criteria_clean(criteria)
        if cleaned != saved_search.criteria:
            saved_search.criteria = cleaned
            changed.append("criteria")
    return record_save(actor=actor, instance=saved_search, changed=changed)


@transaction.atomic
def saved_search_delete(*, actor: User, saved_search: SavedSearch) -> None:
    """Delete the actor's own saved search (``PermissionDenied`` for anyone else)."""
    _check_owner(actor, saved_search)
    record_delete(actor=actor, instance=saved_search)


def saved_search_run(*, actor: User, saved_search: SavedSearch) -> dict:
    """Mark a visible saved search as run now and return its criteria (the caller runs the search).

    Raises ``PermissionDenied`` when the actor may not see it. Running is a read: not audited.
    """
    if not saved_search_can_see(user=actor, saved_search=saved_search):
        raise PermissionDenied
    now = timezone.now()
    # A plain UPDATE: running touches neither updated_at nor the audit log.
    SavedSearch.objects.filter(pk=saved_search.pk).update(last_run_at=now)
    saved_search.last_run_at = now
    return dict(saved_search.criteria)


def criteria_labels(criteria: dict) -> list[tuple[str, str]]:
    """``(label, value)`` per criterion, for people; personal-data hashes are never shown."""
    filters = IndividualFilterSet(queryset=Individual.objects.none()).filters
    rows = []
    for key, value in criteria.items():
        if key.endswith("_hash"):
            rows.append((f"{personal_data.LABELS.get(key[:-5], key[:-5])} (exact)", "given, not shown"))
            continue
        name = _filter_name(key, filters)
        label = str(filters[name].label or name) if name in filters else key
        if key != name:
            label = f"{label} {'from' if key.endswith(('_after', '_min')) else 'to'}"
        rows.append((label, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return rows
