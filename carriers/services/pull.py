"""Pulling a connected group's plans and members from the service, linking them to ours by ids.

A pull is an attempt (``attempts``): outside any transaction it reads the service's plans and members
page by page into their pulled rows (upserts by the service's ids: a pull run twice writes the same
rows) and reads the service's own discrepancies; then, in the one short transaction that settles the
attempt, it drops the rows the service no longer has and compares (``compare``). A pull killed midway
leaves its attempt past its lease; the sweep runs it again from the start, with the same result.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from core.jobs import Status, job_lease_kept
from hrsync.models import Employee
from integrations.attempts import Outcome, attempts_due_now
from integrations.clients.noyo import NoyoClient
from integrations.http import IntegrationError
from plans.models import Plan

from ..mapping import MEMBER_COMPARISONS, SERVICE_CONTEXTS, custom_id_to_uuid, member_from_noyo, plan_from_noyo
from ..models import CarrierConnection, CarrierMember, CarrierPlan, ConnectionAttempt, Discrepancy, MemberLink
from .attempts import active_attempt, attempt_queue, connection_attempt_run
from .compare import _Writer, discrepancies_compare, discrepancies_settle

BATCH = 500
MEMBER_FIELDS = [
    "custom_individual_id",
    "employee",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "hire_date",
    "terminated_date",
    "employment_status",
    "coverage_tier",
    "pulled_at",
]
COMPARED = {*MEMBER_COMPARISONS, "member"}  # fields our own comparison covers
PLAN_FIELDS = ["custom_plan_id", "plan", "name", "line_of_coverage", "effective_start_date", "effective_end_date", "pulled_at"]


def _batches(items: Iterable, size: int | None = None) -> Iterable[list]:
    size, batch = size or BATCH, []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _store_members(connection: CarrierConnection, pages: Iterable[dict], stamp) -> int:
    """Upsert the carrier's members page by page, each linked by ``custom_individual_id`` (our uuid) or a confirmed link."""
    confirmed = dict(MemberLink.objects.filter(connection=connection).values_list("noyo_id", "employee_id"))
    count = 0
    for batch in _batches(pages):
        rows = [member_from_noyo(item) for item in batch]
        ids = {u for u in (custom_id_to_uuid(r["custom_individual_id"]) for r in rows if r["custom_individual_id"]) if u}
        ours = dict(Employee.objects.filter(employer_group_id=connection.employer_group_id, uuid__in=ids).values_list("uuid", "pk")) if ids else {}
        members = [
            CarrierMember(
                connection=connection,
                pulled_at=stamp,
                employee_id=ours.get(custom_id_to_uuid(r["custom_individual_id"])) or confirmed.get(r["noyo_id"]),
                **r,
            )
            for r in rows
            if r["noyo_id"]
        ]
        CarrierMember.objects.bulk_create(members, update_conflicts=True, update_fields=MEMBER_FIELDS, unique_fields=["connection", "noyo_id"])
        count += len(members)
    return count


def _store_plans(connection: CarrierConnection, items: Iterable[dict], stamp) -> int:
    """Upsert the carrier's plans, each linked by ``custom_plan_id`` (our plan's id) within the group and carrier."""
    rows = [plan_from_noyo(item) for item in items]
    ids = [int(r["custom_plan_id"]) for r in rows if r["custom_plan_id"].isdigit()]
    ours = set(Plan.objects.filter(group_id=connection.employer_group_id, carrier_id=connection.carrier_id, pk__in=ids).values_list("pk", flat=True))
    plans = [
        CarrierPlan(
            connection=connection,
            pulled_at=stamp,
            **r,
            plan_id=int(r["custom_plan_id"]) if r["custom_plan_id"].isdigit() and int(r["custom_plan_id"]) in ours else None,
        )
        for r in rows
        if r["noyo_id"]
    ]
    CarrierPlan.objects.bulk_create(plans, update_conflicts=True, update_fields=PLAN_FIELDS, unique_fields=["connection", "noyo_id"])
    return len(plans)


def _merge_service(connection: CarrierConnection, items: Iterable[dict], stamp) -> int:
    """The service's own discrepancies join ours on (field, subject). Where we compare the field ourselves,
    our comparison decides whether it still differs (the service's id and status are attached); a field
    only the service checks becomes a row of its own."""
    seen = 0
    for batch in _batches(items):
        subjects = {str(d.get("subject_id")) for d in batch}
        members = {
            m["noyo_id"]: m
            for m in CarrierMember.objects.filter(connection=connection, noyo_id__in=subjects).values(
                "noyo_id", "employee_id", "first_name", "last_name"
            )
        }
        ours = {
            (d.field, d.subject_key): d for d in Discrepancy.objects.filter(connection=connection, subject_key__in=[f"member:{s}" for s in subjects])
        }
        out, attached = _Writer(connection, stamp), []
        for item in batch:
            body = item.get("body") if isinstance(item.get("body"), dict) else {}
            field = SERVICE_CONTEXTS.get(str(body.get("field") or item.get("context") or ""), "other")
            key = f"member:{item.get('subject_id')}"
            if field in COMPARED:
                if (field, key) in ours:
                    row = ours[(field, key)]
                    row.noyo_discrepancy_id, row.noyo_status = str(item.get("id", "")), str(item.get("status", ""))
                    attached.append(row)
                continue
            member = members.get(str(item.get("subject_id")), {})
            out.add(
                field=field,
                kind=Discrepancy.Kind.MISMATCH,
                subject_key=key,
                subject=f"{member.get('first_name', '')} {member.get('last_name', '')}".strip(),
                employee_id=member.get("employee_id"),
                carrier_value=body.get("carrier_value", ""),
                our_value=body.get("distributor_value", ""),
                noyo_discrepancy_id=str(item.get("id", "")),
                noyo_status=str(item.get("status", "")),
            )
        Discrepancy.objects.bulk_update(attached, ["noyo_discrepancy_id", "noyo_status"])
        seen += len(out.rows) + len(attached)
        out.flush(update_fields=["noyo_discrepancy_id", "noyo_status", "last_seen_at"])
    return seen


def connection_pull(*, connection_id: int, actor: User | None = None) -> dict:
    """Pull a completed connection's plans and members now (call it outside a transaction), compare them
    with ours, merge the service's discrepancies. Returns counts.

    Raises ``ApplicationError`` when the connection is not completed, other work on it is under way, or the
    service fails (the reason is kept on the connection; a transient failure is retried by the policy).
    """
    with transaction.atomic():
        connection = CarrierConnection.objects.select_for_update(of=("self",)).get(pk=connection_id)
        if connection.status != "completed" or not connection.group_id:
            raise ApplicationError(f"Group data can be pulled once the connection is completed; it is {connection.status_display}.")
        attempt = active_attempt(connection)
        if attempt is None:
            attempt = attempt_queue(connection=connection, kind=ConnectionAttempt.Kind.PULL, actor=actor)
        elif attempt.kind == ConnectionAttempt.Kind.PULL and attempt.status != Status.RUNNING:
            attempts_due_now(ConnectionAttempt, [attempt.pk])  # the pull already waiting: now
        else:
            raise ApplicationError("The group data is being pulled right now; its counts follow in a moment.")
    done = connection_attempt_run(attempt.pk)
    if done is None:
        raise ApplicationError("The group data is being pulled right now; its counts follow in a moment.")
    if done.status == Status.FAILED:
        raise ApplicationError(done.reason)
    if done.status != Status.SUCCEEDED:
        raise ApplicationError(f"The group data could not be pulled yet. {done.reason}")
    return done.result


def pull_work(attempt: ConnectionAttempt, client: NoyoClient) -> Outcome:
    """Read the service's plans and members into their pulled rows, and its discrepancies, outside any transaction."""
    connection, stamp = attempt.connection, timezone.now()
    with job_lease_kept(attempt, lease_seconds=settings.CARRIERS_ATTEMPT_LEASE_SECONDS):
        plans = _store_plans(connection, client.plans(connection.group_id), stamp)
        members = _store_members(connection, client.employees(connection.group_id), stamp)
        reported = list(client.discrepancies(connection.group_id))
    return Outcome(
        Status.SUCCEEDED,
        f"Pulled {plans} plans and {members} members.",
        record=lambda a: _pull_recorded(a, stamp=stamp, plans=plans, members=members, reported=reported),
    )


def _pull_recorded(attempt: ConnectionAttempt, *, stamp, plans: int, members: int, reported: list[dict]) -> None:
    """The comparison, in the attempt's settling transaction: what the service no longer has goes, then differences."""
    connection = CarrierConnection.objects.select_for_update(of=("self",)).select_related("employer_group", "carrier").get(pk=attempt.connection_id)
    CarrierPlan.objects.filter(connection=connection, pulled_at__lt=stamp).delete()
    CarrierMember.objects.filter(connection=connection, pulled_at__lt=stamp).delete()  # gone from the carrier
    found = discrepancies_compare(connection=connection, stamp=stamp, finish=False)
    merged = _merge_service(connection, reported, stamp)
    discrepancies_settle(connection=connection, stamp=stamp)
    open_count = Discrepancy.objects.filter(connection=connection, status=Discrepancy.Status.OPEN).count()
    CarrierConnection.objects.filter(pk=connection.pk).update(last_pulled_at=stamp, pull_error="", updated_at=timezone.now())
    result = {"plans": plans, "members": members, "differences": found, "reported_by_service": merged, "open": open_count}
    ConnectionAttempt.objects.filter(pk=attempt.pk).update(result=result)
    attempt.result = result
    audit(
        actor=attempt.requested_by,
        action=AuditLog.Action.SYNC,
        obj=connection,
        summary=(f"Pulled group data: {plans} plans, {members} members; {open_count} open discrepancies"),
        data=result,
    )


def pull_refused(attempt: ConnectionAttempt, error: IntegrationError) -> Outcome:
    def keep(a: ConnectionAttempt) -> None:
        CarrierConnection.objects.filter(pk=a.connection_id).update(pull_error=error.message, updated_at=timezone.now())

    return Outcome(Status.FAILED, f"The group data could not be pulled: {error.message}", record=keep)


@transaction.atomic
def member_link_confirm(*, actor: User | None, connection: CarrierConnection, noyo_id: str, employee: Employee) -> CarrierMember:
    """A person confirms which of our employees a carrier member (without an id of ours) is; the comparison reruns."""
    member = CarrierMember.objects.select_for_update().filter(connection=connection, noyo_id=noyo_id).first()
    if member is None:
        raise ApplicationError("That member is not in the carrier's data for this connection.")
    if employee.employer_group_id != connection.employer_group_id:
        raise ApplicationError(f"{employee} is not an employee of {connection.employer_group.name}.")
    if CarrierMember.objects.filter(connection=connection, employee=employee).exclude(pk=member.pk).exists():
        raise ApplicationError(f"{employee} is already linked to another member of the carrier.")
    MemberLink.objects.update_or_create(connection=connection, noyo_id=noyo_id, defaults={"employee": employee, "actor": actor})
    member.employee = employee
    member.save(update_fields=["employee"])
    stamp = timezone.now()
    discrepancies_compare(connection=connection, stamp=stamp)
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=connection,
        summary=f"Linked the carrier's member {member} to employee {employee}",
        data={"noyo_id": noyo_id, "employee": employee.pk},
    )
    return member
