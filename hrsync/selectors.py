"""Reads for hrsync: employees by tab and criteria, tab counts, an employee's sync history."""
from django.db.models import Count, QuerySet

from .filters import EmployeeFilterSet, SyncAttemptFilterSet
from .models import Employee, SyncAttempt


def employee_list(*, filters: dict | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """Employees meeting ``filters`` (``EmployeeFilterSet`` criteria), groups, levels and last attempts joined.

    ``filters=None``: no FilterSet here, for callers whose FilterSet runs elsewhere (the API's filter
    backend), so that nothing filters twice.
    """
    base = queryset if queryset is not None else Employee.objects.all()
    base = base.select_related("employer_group", "benefits_level", "last_attempt")
    return base if filters is None else EmployeeFilterSet(filters, queryset=base).qs


def sync_state_counts(*, queryset: QuerySet | None = None) -> dict[str, int]:
    """Employees per tab, in one query: ``{"not_syncing": 3, "in_progress": 0, ...}``."""
    qs = queryset if queryset is not None else Employee.objects.all()
    counts = dict(qs.order_by().values_list("sync_state").annotate(n=Count("pk")))
    return {state: counts.get(state, 0) for state in Employee.SyncState.values}


def sync_attempt_list(*, filters: dict | None = None) -> QuerySet:
    return SyncAttemptFilterSet(filters or {}, queryset=SyncAttempt.objects.select_related("employee", "requested_by")).qs


def employee_sync_history(*, employee: Employee) -> QuerySet:
    return employee.sync_attempts.select_related("requested_by").order_by("-created_at", "-id")
