"""The beat job through a real Celery worker process (PostgreSQL + Redis pass): poll to completion, then pull."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.models import CarrierConnection, Discrepancy
from carriers.services import connection_request
from carriers.tasks import connections_poll_due_task

from .factories import connected_group, roster


@pytest.mark.worker
def test_a_real_worker_polls_with_faults_to_completion_and_pulls(celery_worker_process, sandbox, noyo, agency_admin):
    group, carrier = connected_group(members=10)
    noyo.seed(**roster(group, carrier, "CG-1", share=0.5, script={"not_ready_polls": 2}))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    sandbox.knobs(error_rate=0.3, latency_ms=20)  # the worker's polls meet 500s: retried by the next beat

    deadline = time.monotonic() + 150  # a loaded machine: the worker may be slow to start
    while time.monotonic() < deadline:
        connection.refresh_from_db()
        if connection.last_pulled_at:
            break
        CarrierConnection.objects.filter(pk=connection.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
        connections_poll_due_task.delay()  # what beat sends every minute
        time.sleep(0.5)

    assert connection.status == "completed" and connection.last_pulled_at is not None
    statuses = list(connection.events.order_by("id").values_list("status", flat=True))
    assert statuses == ["created", "processing", "waiting_on_carrier", "completed"]  # each change once
    assert Discrepancy.objects.filter(connection=connection, status=Discrepancy.Status.OPEN).exists()
