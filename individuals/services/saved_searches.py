"""Saved searches: advanced-search criteria kept under a name, private or shared (services and selectors).

Rules: anyone who may see individuals may save searches; a search is seen by its owner, and by
everyone who may see individuals when it is shared; only the owner renames, re-shares or deletes
it. Criteria are validated and stored by ``filters.criteria`` (strict, keyed hashes for personal
data, with their ``criteria_version``): never the result list.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from accounts.services import record_delete, record_save

from .. import personal_data
from ..filters import CRITERIA_VERSION, criteria_authorize, criteria_clean, criteria_load, criteria_sealed
from ..filters.criteria import NOT_SHOWN
from ..models import SavedSearch

VIEW_INDIVIDUALS = "individuals.view_individual"
SHARE_RIGHT = "individuals.change_individual"
SHARE_REFUSED = "Sharing a saved search with everyone needs Edit on Individuals; keep it private instead."


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


def saved_search_can_share(*, user: User) -> bool:
    """Publishing a search to everyone needs Edit on Individuals (Read Only keeps its searches private)."""
    return user.has_perm(SHARE_RIGHT)


def _check_share(actor: User) -> None:
    if not saved_search_can_share(user=actor):
        raise PermissionDenied(SHARE_REFUSED)


def saved_search_urls(saved_search: SavedSearch) -> dict[str, str]:
    """Where its criteria are run: the API list and the admin changelist (personal data as sealed keys only)."""
    query = urlencode(criteria_sealed(criteria_load(saved_search.criteria, saved_search.criteria_version)), doseq=True)
    suffix = f"?{query}" if query else ""
    return {
        "api": reverse("api:individual-list") + suffix,
        "admin": reverse("admin:individuals_individual_changelist") + suffix,
    }


# --- services ------------------------------------------------------------------------------------
def _check_owner(actor: User, saved_search: SavedSearch) -> None:
    if not saved_search_can_change(user=actor, saved_search=saved_search):
        raise PermissionDenied("Only its owner may change or delete a saved search.")


@transaction.atomic
def saved_search_create(*, actor: User, name: str, criteria, shared: bool = False) -> SavedSearch:
    """Save ``criteria`` under ``name`` for ``actor`` (private unless ``shared``).

    Raises ``PermissionDenied`` without the Individuals view right, or when sharing without Edit on
    Individuals; ``ValidationError`` for invalid criteria or a name the owner already uses; nothing is
    written then.
    """
    if not actor.has_perm(VIEW_INDIVIDUALS):
        raise PermissionDenied
    if shared:
        _check_share(actor)
    saved_search = SavedSearch(
        owner=actor, name=(name or "").strip(), shared=bool(shared), criteria=_criteria_saved(actor, criteria), criteria_version=CRITERIA_VERSION
    )
    return record_save(actor=actor, instance=saved_search)


def _criteria_saved(actor: User, criteria, *, stored: dict | None = None) -> dict:
    """Criteria to store: cleaned; personal data given again as shown ("(saved, not shown)") keeps the
    stored key; a save naming personal data counts against the actor's personal-data budget like a search."""
    given = dict(criteria) if isinstance(criteria, dict) else criteria
    kept = {}
    if isinstance(given, dict):
        for kind in personal_data.KINDS:
            if given.get(kind) == NOT_SHOWN:
                del given[kind]
                if (stored or {}).get(f"{kind}_hash"):
                    kept[f"{kind}_hash"] = stored[f"{kind}_hash"]
    cleaned = {**criteria_clean(given), **kept}
    criteria_authorize(actor=actor, data=cleaned, how="saved search")
    return cleaned


@transaction.atomic
def saved_search_update(*, actor: User, saved_search: SavedSearch, name: str | None = None, shared: bool | None = None, criteria=None) -> SavedSearch:
    """Rename, share / unshare or replace the criteria of the actor's own saved search.

    Raises ``PermissionDenied`` for anyone but the owner, or for sharing without Edit on Individuals
    (unsharing needs no more than ownership); ``ValidationError`` for bad values.
    """
    _check_owner(actor, saved_search)
    if shared and not saved_search.shared:
        _check_share(actor)
    changed = []
    if name is not None and name.strip() != saved_search.name:
        saved_search.name = name.strip()
        changed.append("name")
    if shared is not None and bool(shared) != saved_search.shared:
        if shared:
            _check_share(actor)
        saved_search.shared = bool(shared)
        changed.append("shared")
    if criteria is not None:
        cleaned = _criteria_saved(actor, criteria, stored=saved_search.criteria)
        if cleaned != saved_search.criteria or saved_search.criteria_version != CRITERIA_VERSION:
            saved_search.criteria, saved_search.criteria_version = cleaned, CRITERIA_VERSION
            changed += ["criteria", "criteria_version"]
    return record_save(actor=actor, instance=saved_search, changed=changed)


@transaction.atomic
def saved_search_delete(*, actor: User, saved_search: SavedSearch) -> None:
    """Delete the actor's own saved search (``PermissionDenied`` for anyone else)."""
    _check_owner(actor, saved_search)
    record_delete(actor=actor, instance=saved_search)


def saved_search_run(*, actor: User, saved_search: SavedSearch) -> dict:
    """Mark a visible saved search as run now and return its criteria, upgraded to the current version
    (the caller runs the search, which refuses criteria that no longer fit).

    Raises ``PermissionDenied`` when the actor may not see it, ``ValidationError`` when its criteria
    cannot be read. Running is a read: not audited.
    """
    if not saved_search_can_see(user=actor, saved_search=saved_search):
        raise PermissionDenied
    now = timezone.now()
    # A plain UPDATE: running touches neither updated_at nor the audit log.
    SavedSearch.objects.filter(pk=saved_search.pk).update(last_run_at=now)
    saved_search.last_run_at = now
    return criteria_load(saved_search.criteria, saved_search.criteria_version)
