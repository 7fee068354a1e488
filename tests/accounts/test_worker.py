import pytest

from accounts.models import AuditLog
from accounts.tasks import health_check_task


@pytest.mark.worker
def test_task_round_trip_through_a_real_worker(celery_worker_process, agency_admin):
    AuditLog.objects.create(action=AuditLog.Action.OTHER, summary="seen by the worker")
    result = health_check_task.delay().get(timeout=60)
    assert result == {"database": "postgresql", "audit_rows": AuditLog.objects.count()}
