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


def test_integration_tasks_go_to_the_threads_workers_queue_and_jobs_to_the_prefork_one(settings):
    from config.celery import app

    settings.INTEGRATIONS_QUEUE = "integrations"
    router = app.amqp.Router()

    def queue(name):
        return router.route({}, name)["queue"].name

    assert queue("hrsync.tasks.sync_attempt_run_task") == "integrations"
    for cpu_bound in ("salesrecords.tasks.mass_creation_run_task", "individuals.tasks.export_job_run_task", "hrsync.tasks.sync_attempts_sweep_task"):
        assert queue(cpu_bound) == app.conf.task_default_queue
    settings.INTEGRATIONS_TASKS = [*settings.INTEGRATIONS_TASKS, "plansync.tasks.*"]  # another app opts in: one line
    assert queue("plansync.tasks.plan_sync_run_task") == "integrations"
