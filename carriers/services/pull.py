"""Pulling a connected group's plans and members from the service, linking them to ours by ids."""
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit
from core.errors import ApplicationError
from hrsync.models import Employee
from integrations.clients.noyo import noyo_client
from integrations.http import IntegrationError
from plans.models import Plan

from ..mapping import MEMBER_COMPARISONS, SERVICE_CONTEXTS, custom_id_to_uuid, member_from_noyo, plan_from_noyo
from ..models import CarrierConnection, CarrierMember, CarrierPlan, Discrepancy, MemberLink
from .compare import _Writer, discrepancies_compare, discrepancies_settle

BATCH = 500
MEMBER_FIELDS = ["custom_individual_id", "employee", "first_name", "last_name", "date_of_birth", "email", "hire_date",
                 "terminated_date", "employment_status", "coverage_tier", "pulled_at"]
COMPARED = {*MEMBER_COMPARISONS, "member"}  # fields our own comparison covers
PLAN_FIELDS = ["custom_plan_id", "plan", "name", "line_of_coverage", "effective_start_date", "effective_end_date", "pulled_at"]


def _batches(items: Iterable, size: int = BATCH) -> Iterable[list]:
    batch = []
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
        ours = dict(Employee.objects.filter(employer_group_id=connection.employer_group_id, uuid__in=ids)
                    .values_list("uuid", "pk")) if ids else {}
        members = [CarrierMember(connection=connection, pulled_at=stamp,
                                 employee_id=ours.get(custom_id_to_uuid(r["custom_individual_id"])) or confirmed.get(r["noyo_id"]),
                                 **r) for r in rows if r["noyo_id"]]
        CarrierMember.objects.bulk_create(members, update_conflicts=True, update_fields=MEMBER_FIELDS,
                                          unique_fields=["connection", "noyo_id"])
        count += len(members)
    CarrierMember.objects.filter(connection=connection, pulled_at__lt=stamp).delete()  # gone from the carrier
    return count


def _store_plans(connection: CarrierConnection, items: Iterable[dict], stamp) -> int:
    """Upsert the carrier's plans, each linked by ``custom_plan_id`` (our plan's id) within the group and carrier."""
    rows = [plan_from_noyo(item) for item in items]
    ids = [int(r["custom_plan_id"]) for r in rows if r["custom_plan_id"].isdigit()]
    ours = set(Plan.objects.filter(group_id=connection.employer_group_id, carrier_id=connection.carrier_id, pk__in=ids)
               .values_list("pk", flat=True))
    plans = [CarrierPlan(connection=connection, pulled_at=stamp, **r,
                         plan_id=int(r["custom_plan_id"]) if r["custom_plan_id"].isdigit() and int(r["custom_plan_id"]) in ours else None)
             for r in rows if r["noyo_id"]]
    CarrierPlan.objects.bulk_create(plans, update_conflicts=True, update_fields=PLAN_FIELDS, unique_fields=["connection", "noyo_id"])
    CarrierPlan.objects.filter(connection=connection, pulled_at__lt=stamp).delete()
    return len(plans)


def _merge_service(connection: CarrierConnection, items: Iterable[dict], stamp) -> int:
    """The service's own discrepancies join ours on (field, subject). Where we compare the field ourselves,
    our comparison decides whether it still differs (the service's id and status are attached); a field
    only the service checks becomes a row of its own."""
    seen = 0
    for batch in _batches(items):
        subjects = {str(d.get("subject_id")) for d in batch}
        members = {m["noyo_id"]: m for m in CarrierMember.objects.filter(connection=connection, noyo_id__in=subjects)
                   .values("noyo_id", "employee_id", "first_name", "last_name")}
        ours = {(d.field, d.subject_key): d for d in Discrepancy.objects.filter(
            connection=connection, subject_key__in=[f"member:{s}" for s in subjects])}
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
            out.add(field=field, kind=Discrepancy.Kind.MISMATCH, subject_key=key,
                    subject=f"{member.get('first_name', '')} {member.get('last_name', '')}".strip(),
                    employee_id=member.get("employee_id"), carrier_value=body.get("carrier_value", ""),
                    our_value=body.get("distributor_value", ""), noyo_discrepancy_id=str(item.get("id", "")),
                    noyo_status=str(item.get("status", "")))
        Discrepancy.objects.bulk_update(attached, ["noyo_discrepancy_id", "noyo_status"])
        seen += len(out.rows) + len(attached)
        out.flush(update_fields=["noyo_discrepancy_id", "noyo_status", "last_seen_at"])
    return seen


def connection_pull(*, connection_id: int, actor: User | None = None) -> dict:
    """Pull a completed connection's plans and members, compare them with ours, merge the service's discrepancies.

    Returns counts. Raises ``ApplicationError`` when the connection is not completed or the service
    fails (the reason is kept on the connection as well).
    """
    connection = CarrierConnection.objects.select_related("employer_group", "carrier").get(pk=connection_id)
    if connection.status != "completed" or not connection.group_id:
        raise ApplicationError(f"Group data can be pulled once the connection is completed; it is {connection.status_display}.")
    client, stamp = noyo_client(), timezone.now()
    try:
        plans = _store_plans(connection, client.plans(connection.group_id), stamp)
        members = _store_members(connection, client.employees(connection.group_id), stamp)
        with transaction.atomic():
            found = discrepancies_compare(connection=connection, stamp=stamp, finish=False)
            reported = _merge_service(connection, client.discrepancies(connection.group_id), stamp)
            discrepancies_settle(connection=connection, stamp=stamp)
    except IntegrationError as exc:
        CarrierConnection.objects.filter(pk=connection.pk).update(pull_error=exc.message)
        raise ApplicationError(f"The group data could not be pulled: {exc.message}") from exc
    open_count = Discrepancy.objects.filter(connection=connection, status=Discrepancy.Status.OPEN).count()
    CarrierConnection.objects.filter(pk=connection.pk).update(last_pulled_at=stamp, pull_error="")
    result = {"plans": plans, "members": members, "differences": found, "reported_by_service": reported, "open": open_count}
    audit(actor=actor, action=AuditLog.Action.SYNC, obj=connection, summary=(
        f"Pulled group data: {plans} plans, {members} members; {open_count} open discrepancies"), data=result)
    return result


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
    audit(actor=actor, action=AuditLog.Action.UPDATE, obj=connection,
          summary=f"Linked the carrier's member {member} to employee {employee}", data={"noyo_id": noyo_id, "employee": employee.pk})
    return member

