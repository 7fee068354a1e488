"""Reads for individuals: the advanced search through the shared FilterSet (``filters.criteria``)."""
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import User

from .filters import criteria_filterset
from .models import Individual


def individual_list(*, filters=None, user: User | None = None, queryset: QuerySet | None = None,
                    request=None) -> QuerySet:
    """Individuals matching the advanced-search ``filters`` (a dict or QueryDict), agent joined.

    Raises ``ValidationError`` keyed by criterion for invalid criteria (``criteria_filterset``'s rules:
    unknown keys and bad values are refused, never dropped). ``user`` is checked for the Individuals
    view right (``PermissionDenied`` otherwise).
    """
    if user is not None and not user.has_perm("individuals.view_individual"):
        raise PermissionDenied
    base = queryset if queryset is not None else Individual.objects.select_related("servicing_agent")
    return criteria_filterset({} if filters is None else filters, queryset=base, request=request).qs
