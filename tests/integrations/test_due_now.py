""" "Sync now", "Poll now", "Reconcile now": the one way a person makes waiting work due (``integrations.attempts``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.models import ConnectionAttempt
from core.jobs import Status, job_claim
from integrations.attempts import attempts_due_now
from tests.plans.factories import CarrierFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db


def _attempt(status: str, **fields) -> ConnectionAttempt:
    return ConnectionAttempt.objects.create(
        employer_group=EmployerGroupFactory(), carrier=CarrierFactory(), kind=ConnectionAttempt.Kind.POLL, status=status, **fields
    )


def test_waiting_work_is_made_due_and_the_rest_left_alone():
    # given: a retry set for an hour from now, a queued one, and one running and one finished
    later, now = timezone.now() + timedelta(hours=1), timezone.now()
    retrying = _attempt(Status.RETRYING, next_try_at=later, lease_until=later + timedelta(minutes=5))
    queued = _attempt(Status.QUEUED, lease_until=now + timedelta(minutes=5))
    running = _attempt(Status.RUNNING, lease_until=now + timedelta(minutes=5))
    done = _attempt(Status.SUCCEEDED)
    assert job_claim(ConnectionAttempt, retrying.pk, lease_seconds=60) is None  # not due yet
    # when: a person asks for all four now
    made_due = attempts_due_now(ConnectionAttempt, [a.pk for a in (retrying, queued, running, done)])
    # then: the two that waited are due (a worker takes the retry at once), the others untouched
    assert made_due == 2
    for row in (running, done):
        assert ConnectionAttempt.objects.get(pk=row.pk).status == row.status
    assert job_claim(ConnectionAttempt, retrying.pk, lease_seconds=60).tries == 1
    assert job_claim(ConnectionAttempt, queued.pk, lease_seconds=60).tries == 1


def test_its_lease_can_run_from_now_so_a_lost_message_is_swept_soon():
    later = timezone.now() + timedelta(hours=1)
    retrying = _attempt(Status.RETRYING, next_try_at=later, lease_until=later + timedelta(minutes=5))
    assert attempts_due_now(ConnectionAttempt, [retrying.pk], lease_seconds=30) == 1
    retrying.refresh_from_db()
    assert retrying.next_try_at is None and retrying.lease_until <= timezone.now() + timedelta(seconds=30)
    assert attempts_due_now(ConnectionAttempt, []) == 0
