"""The sync through a real Celery worker process (PostgreSQL + Redis pass)."""
import time

import pytest

from hrsync.models import Employee
from hrsync.services import employee_sync_request

from .factories import EmployeeFactory


@pytest.mark.worker
def test_a_real_worker_syncs_a_selection_with_faults(sandbox, celery_worker_process, agency_admin):
    employees = EmployeeFactory.create_batch(6)
    sandbox.knobs(error_rate=0.2, latency_ms=20)

    result = employee_sync_request(actor=agency_admin, employees=[e.pk for e in employees])  # enqueued on commit
    assert result.sent == 6

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and Employee.objects.filter(sync_state=Employee.SyncState.IN_PROGRESS).exists():
        time.sleep(0.3)
    states = dict(Employee.objects.values_list("email", "sync_state"))
    assert set(states.values()) <= {"successful", "failed"} and "successful" in states.values()
    for employee in employees:
        if states[employee.email] == "successful":
            assert len(sandbox.accounts(employee.email)) == 1
    assert sandbox.stats()["accounts"] == sandbox.stats()["emails"]  # never two accounts for one email
