"""The AMS link's rows of work on the shared base: how long they are held, how they are queued, and the sweep.

Notifications and reconciliations are ``core.jobs.Job`` rows; customer syncs and CRM pushes are
``integrations.attempts.Attempt`` rows (``SyncAttempt``). Each is queued with a lease in the transaction
that made it, its task enqueued after commit (``core.jobs.on_commit_enqueue``); the beat's sweep sends
again whatever nobody holds (a worker died, or a message was lost).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
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


def sync_attempt_queue_many(*, direction: str, task, objs: list, external_ids: list[str]) -> list[int]:
    """``sync_attempt_queue`` for many records at once (any models), in three statements: the ones still
    queued cover their record (locked, their lease renewed), the others are queued in one INSERT, and
    every new one's task is enqueued after commit in one go. Returns the new attempts' ids."""
    if not objs:
        return []
    with transaction.atomic():
        return _queue_many(direction=direction, task=task, objs=objs, external_ids=external_ids)


def _queue_many(*, direction: str, task, objs: list, external_ids: list[str]) -> list[int]:
    keys = [(ContentType.objects.get_for_model(obj).pk, obj.pk) for obj in objs]
    waiting = {}
    # Locked, as one at a time joins by a conditional update: a worker claiming one meanwhile waits for this
    # transaction and reads the new lease; one claimed already is no longer queued, and is queued anew.
    for pk, content_type_id, object_id in (
        SyncAttempt.objects.select_for_update()
        .filter(status=SyncAttempt.Status.QUEUED, direction=direction, operation=SyncAttempt.Operation.SYNC, object_id__in={k[1] for k in keys})
        .order_by("pk")
        .values_list("pk", "content_type_id", "object_id")
    ):
        waiting.setdefault((content_type_id, object_id), pk)
    joined = {waiting[key] for key in keys if key in waiting}
    lease = queued_until()
    if joined:
        SyncAttempt.objects.filter(pk__in=joined).update(lease_until=lease)
    fresh, seen = [], set()
    for obj, key, external_id in zip(objs, keys, external_ids, strict=True):
        if key in waiting or key in seen:
            continue
        seen.add(key)
        fresh.append(
            SyncAttempt(
                direction=direction,
                operation=SyncAttempt.Operation.SYNC,
                external_id=external_id[:200],
                content_type_id=key[0],
                object_id=key[1],
                record_repr=str(obj)[:200],
                lease_until=lease,
            )
        )
    ids = [a.pk for a in SyncAttempt.objects.bulk_create(fresh, batch_size=1000)]
    on_commit_enqueue(task, ids)
    return ids


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
