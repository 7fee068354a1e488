"""Reads for hrsync: employees by tab and criteria, tab counts, an employee's sync history, data to fix."""

from django.db.models import Count, QuerySet
from django.urls import reverse

from core.jobs import Status
from integrations.decisions import Decision

from .filters import EmployeeFilterSet, SyncAttemptFilterSet
from .mapping import NOT_SENT
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


def employees_with_data_to_fix() -> QuerySet:
    """Employees whose last sync Failed before sending: their data must be fixed (missing mandatory data,
    a benefits level without a platform package) before they can be on the benefits platform."""
    return Employee.objects.filter(
        sync_state=Employee.SyncState.FAILED, last_attempt__status=Status.FAILED, last_attempt__reason__startswith=NOT_SENT
    )


def data_to_fix_decisions(limit: int) -> list[Decision]:
    """*Awaiting a person*: the employees with data to fix, the longest waiting first."""
    url = reverse("admin:hrsync_employee_changelist") + f"?sync_state={Employee.SyncState.FAILED}"
    rows = employees_with_data_to_fix().select_related("last_attempt", "employer_group").order_by("last_attempt__finished_at", "pk")[:limit]
    return [
        Decision(
            kind="Benefits sync: data to fix",
            title=f"{e} ({e.employer_group}): {e.last_attempt.reason.removeprefix(NOT_SENT)}",
            blocks=f"{e} is not on the benefits platform",
            opened_at=e.last_attempt.finished_at,
            url=url,
        )
        for e in rows
    ]
