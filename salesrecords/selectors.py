"""Reads for sales records: lists limited to the record types the user may view."""

from django.db.models import QuerySet

from accounts.models import User

from .models import Activity, MassCreationJob, SalesRecord
from .rights import allowed_types


def salesrecord_list(*, user: User) -> QuerySet:
    """Sales records of the types ``user`` may view, type, user and job joined."""
    return SalesRecord.objects.filter(record_type__in=allowed_types(user, "view")).select_related("record_type", "assigned_user", "individual")


def job_list(*, user: User) -> QuerySet:
    return MassCreationJob.objects.filter(record_type__in=allowed_types(user, "view")).select_related("record_type", "created_by")


def activity_list(*, user: User) -> QuerySet:
    """Activities of records the user may view, plus any assigned to the user."""
    from django.db.models import Q

    return Activity.objects.filter(
        Q(sales_record__record_type__in=allowed_types(user, "view")) | Q(assigned_to=user) | Q(sales_record__isnull=True)
    ).select_related("sales_record", "assigned_to", "workflow")


def job_progress(job: MassCreationJob) -> dict:
    """What the job page polls: the counts so far, and the share of the matches processed."""
    return {
        "id": job.pk,
        "status": job.status,
        "queue": job.queue,
        "status_display": job.get_status_display(),
        "finished": job.finished,
        "matched": job.matched,
        "processed": job.processed,
        "created": job.created,
        "skipped": job.skipped,
        "reason": job.reason,
        "percent": min(100, round(100 * job.processed / job.matched)) if job.matched else (100 if job.finished else 0),
    }
