"""Reads for individuals: the advanced search through the shared FilterSet."""
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import User

from .filters import IndividualFilterSet
from .models import Individual


def individual_list(*, filters: dict | None = None, user: User | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """Individuals matching the advanced-search ``filters`` (a dict or QueryDict), agent joined.

    Raises ``ValidationError`` with the FilterSet's field errors for invalid criteria. ``user`` is
    checked for the Individuals view right (``PermissionDenied`` otherwise).
    """
    if user is not None and not user.has_perm("individuals.view_individual"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    base = queryset if queryset is not None else Individual.objects.all()
    filterset = IndividualFilterSet(data=filters or {}, queryset=base.select_related("servicing_agent"))
    if not filterset.is_valid():
        raise ValidationError(filterset_errors(filterset))
    return filterset.qs


def filterset_errors(filterset: IndividualFilterSet) -> dict[str, list[str]]:
    """Field errors of an invalid search, keyed by criterion (``__all__`` -> ``non_field_errors``)."""
    return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in filterset.errors.items()}
