"""The AMS link's rows of work on the shared base: how long they are held, how they are queued, and the sweep.

Notifications and reconciliations are ``core.jobs.Job`` rows; customer syncs and CRM pushes are
``integrations.attempts.Attempt`` rows (``SyncAttempt``). Each is queued with a lease in the transaction
that made it, its task enqueued after commit (``core.jobs.on_commit_enqueue``); the beat's sweep sends
again whatever nobody holds (a worker died, or a message was lost).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.jobs import jobs_sweep, on_commit_enqueue

from ..models import Notification, Reconciliation, SyncAttempt

SYSTEM_NAME = "agency management system"


def attempt_lease() -> float:
    return settings.AMS_ATTEMPT_LEASE_SECONDS


def queued_until():
    """A queued row's lease: past it, its message is taken as lost and the sweep sends it again."""
    return timezone.now() + timedelta(seconds=settings.AMS_QUEUED_LEASE_SECONDS)


def with_history(tries: int, earlier: str, reason: str) -> str:
    """``reason``, followed by why the try before did not finish (the sweep's or a retry's note, as the
    row held it when this try claimed it), so the row's history says what happened."""
    earlier = (earlier or "").strip()
    if tries > 1 and earlier and earlier not in reason:
        return f"{reason} (Try {tries}; before it: {earlier})".strip()
    return reason


def sync_attempt_queue(
    *, direction: str, task, operation: str = SyncAttempt.Operation.SYNC, obj=None, external_id: str = "", record_repr: str = "", requested_by=None
) -> SyncAttempt:
    """Record the intent to sync one record (in the caller's transaction) and enqueue it after commit.

    A sync of the same record still queued (not yet taken up) covers this one: it reads the record as it
    is when it runs. Returns the queued attempt.
    """
    fields = {"direction": direction, "operation": operation, "external_id": external_id[:200]}
    if obj is not None:
        fields.update(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    waiting = SyncAttempt.objects.filter(status=SyncAttempt.Status.QUEUED, **fields).order_by("pk").values_list("pk", flat=True).first()
    # Joined by a conditional update, not a read: a worker claiming it meanwhile waits for this transaction
    # (the row is locked), so it reads the change; one claimed already matches nothing, and a new one is queued.
    if waiting is not None and SyncAttempt.objects.filter(pk=waiting, status=SyncAttempt.Status.QUEUED).update(lease_until=queued_until()):
        return SyncAttempt.objects.get(pk=waiting)
    attempt = SyncAttempt.objects.create(
        **fields,
        record_repr=(record_repr or (str(obj) if obj is not None else ""))[:200],
        lease_until=queued_until(),
        requested_by=requested_by if requested_by is not None and requested_by.pk else None,
    )
    on_commit_enqueue(task, [attempt.pk])
    return attempt


def ams_sweep() -> int:
    """Beat: every notification, sync attempt and reconciliation nobody holds is queued (and sent) again."""
    from ..tasks import crm_push_task, customer_sync_task, notification_process_task, reconciliation_run_task

    def sync_task(pk: int) -> None:
        direction = SyncAttempt.objects.filter(pk=pk).values_list("direction", flat=True).first()
        task = crm_push_task if direction == SyncAttempt.Direction.TO_CRM else customer_sync_task
        on_commit_enqueue(task, [pk])

    lease = settings.AMS_QUEUED_LEASE_SECONDS
    return (
        jobs_sweep(Notification, enqueue=lambda pk: on_commit_enqueue(notification_process_task, [pk]), queued_lease_seconds=lease)
        + jobs_sweep(SyncAttempt, enqueue=sync_task, queued_lease_seconds=lease)
        + jobs_sweep(Reconciliation, enqueue=lambda pk: on_commit_enqueue(reconciliation_run_task, [pk]), queued_lease_seconds=lease)
    )
