"""The comparison of a carrier's view of a group with ours: set-based, one query per kind of difference.

Each kind (a member field that differs, a member or plan missing on either side) is one query over
the pulled rows joined to ours, read as a stream; its rows are written in batches with one
``INSERT … ON CONFLICT (connection, field, subject) DO UPDATE`` each, so memory stays flat however
large the group. A discrepancy not seen again closes itself ("values agree"); one seen again after
it was taken or closed opens again.
"""
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import commit_without_waiting_for_disk
from hrsync.models import Employee
from plans.models import Plan

from ..mapping import FIELDS, MEMBER_COMPARISONS
from ..models import CarrierConnection, CarrierMember, CarrierPlan, Discrepancy

BATCH = 1000
OPEN_STATES = [Discrepancy.Status.OPEN, Discrepancy.Status.KEPT_OURS, Discrepancy.Status.ACKNOWLEDGED]
UPDATED = ["kind", "severity", "subject", "employee", "plan", "carrier_value", "our_value", "last_seen_at"]


def _value(value) -> str:
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def _differs(ours: str, theirs: str, kind: str) -> Q:
    """``theirs`` and ``ours`` are distinct, NULL-safe (dates)."""
    both = Q(**{f"{theirs}__isnull": False, f"{ours}__isnull": False}) & ~Q(**{theirs: F(ours)})
    return both | Q(**{f"{theirs}__isnull": True, f"{ours}__isnull": False}) | Q(**{f"{theirs}__isnull": False, f"{ours}__isnull": True})


class _Writer:
    def __init__(self, connection: CarrierConnection, stamp):
        self.connection, self.stamp, self.rows, self.count = connection, stamp, [], 0

    def add(self, *, field: str, kind: str, subject_key: str, subject: str = "", carrier_value="", our_value="",
            employee_id=None, plan_id=None, **extra) -> None:
        self.rows.append(Discrepancy(
            connection=self.connection, employer_group_id=self.connection.employer_group_id,
            carrier_id=self.connection.carrier_id, kind=kind, field=field, severity=FIELDS.get(field, ("", 2))[1],
            subject_key=subject_key, subject=subject[:200], employee_id=employee_id, plan_id=plan_id,
            carrier_value=_value(carrier_value)[:255], our_value=_value(our_value)[:255],
            first_seen_at=self.stamp, last_seen_at=self.stamp, **extra))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self, update_fields: list[str] = UPDATED) -> None:
        if self.rows:
            Discrepancy.objects.bulk_create(self.rows, update_conflicts=True, update_fields=update_fields,
                                            unique_fields=["connection", "field", "subject_key"])
            self.count += len(self.rows)
            self.rows = []


def _stream(queryset: QuerySet, *fields: str) -> Iterable[tuple]:
    return queryset.values_list(*fields).iterator(chunk_size=2000)


@transaction.atomic  # one commit, and the streamed reads need no WITH HOLD cursors
def discrepancies_compare(*, connection: CarrierConnection, stamp=None, finish: bool = True) -> int:
    """Record every difference between the pulled rows and ours; returns how many were seen.

    ``finish=False`` leaves closing and reopening to the caller (the pull merges the service's own first).
    """
    stamp = stamp or timezone.now()
    commit_without_waiting_for_disk()  # discrepancies are derived data the next pull recomputes
    out, Kind = _Writer(connection, stamp), Discrepancy.Kind
    members = CarrierMember.objects.filter(connection=connection).order_by()
    linked = members.filter(employee__isnull=False)
    # Every compared field of the linked members in ONE query (members with any difference only); the
    # per-field check below applies the same rule as the SQL (text: blank equals missing; dates: NULL-safe).
    annotations = {f"_o_{field}": Coalesce(F(ours), Value("")) if kind == "text" else F(ours)
                   for field, (theirs, ours, kind) in MEMBER_COMPARISONS.items()}
    differs = Q()
    for field, (theirs, ours, kind) in MEMBER_COMPARISONS.items():
        differs |= ~Q(**{theirs: F(f"_o_{field}")}) if kind == "text" else _differs(ours, theirs, kind)
    columns = [(field, theirs) for field, (theirs, _, _) in MEMBER_COMPARISONS.items()]
    rows = linked.annotate(**annotations).filter(differs)
    for row in _stream(rows, "noyo_id", "employee_id", "employee__first_name", "employee__last_name",
                       *[theirs for _, theirs in columns], *annotations):
        noyo_id, employee_id, first, last = row[:4]
        theirs_values, ours_values = row[4:4 + len(columns)], row[4 + len(columns):]
        for (field, _), carrier_value, our_value in zip(columns, theirs_values, ours_values, strict=True):
            if carrier_value != our_value:
                out.add(field=field, kind=Kind.MISMATCH, subject_key=f"member:{noyo_id}", subject=f"{first} {last}",
                        employee_id=employee_id, carrier_value=carrier_value, our_value=our_value)
    # Ours, active, that no carrier member is linked to.
    missing = (Employee.objects.filter(employer_group_id=connection.employer_group_id, leave_date__isnull=True)
               .exclude(pk__in=linked.values("employee_id")).order_by())
    for pk, first, last in _stream(missing, "pk", "first_name", "last_name"):
        out.add(field="member", kind=Kind.MISSING_AT_CARRIER, subject_key=f"employee:{pk}", subject=f"{first} {last}",
                employee_id=pk, our_value="present")
    # The carrier's active members with no id of ours (and no link a person confirmed).
    for noyo_id, first, last in _stream(members.filter(employee__isnull=True, terminated_date__isnull=True),
                                        "noyo_id", "first_name", "last_name"):
        out.add(field="member", kind=Kind.MISSING_HERE, subject_key=f"member:{noyo_id}", subject=f"{first} {last}",
                carrier_value="present")
    plans = CarrierPlan.objects.filter(connection=connection).order_by()
    for field, theirs, ours in (("plan_effective_date", "effective_start_date", "plan__effective_date"),
                                ("plan_termination_date", "effective_end_date", "plan__cancellation_date")):
        rows = plans.filter(Q(plan__isnull=False) & _differs(ours, theirs, "date"))
        for noyo_id, plan_id, name, carrier_value, our_value in _stream(rows, "noyo_id", "plan_id", "plan__name", theirs, ours):
            out.add(field=field, kind=Kind.MISMATCH, subject_key=f"carrier_plan:{noyo_id}", subject=name, plan_id=plan_id,
                    carrier_value=carrier_value, our_value=our_value)
    for noyo_id, name in _stream(plans.filter(plan__isnull=True), "noyo_id", "name"):
        out.add(field="plan", kind=Kind.MISSING_HERE, subject_key=f"carrier_plan:{noyo_id}", subject=name,
                carrier_value="present")
    ours_missing = (Plan.objects.filter(group_id=connection.employer_group_id, carrier_id=connection.carrier_id,
                                        status__in=[Plan.Status.ACTIVE, Plan.Status.PENDING])
                    .exclude(pk__in=plans.filter(plan__isnull=False).values("plan_id")).order_by())
    for pk, name in _stream(ours_missing, "pk", "name"):
        out.add(field="plan", kind=Kind.MISSING_AT_CARRIER, subject_key=f"plan:{pk}", subject=name, plan_id=pk,
                our_value="present")
    out.flush()
    if finish:
        discrepancies_settle(connection=connection, stamp=stamp)
    return out.count


def discrepancies_settle(*, connection: CarrierConnection, stamp) -> None:
    """After a comparison at ``stamp``: close what was not seen again, reopen what came back."""
    mine = Discrepancy.objects.filter(connection=connection)
    mine.filter(status__in=OPEN_STATES, last_seen_at__lt=stamp).update(
        status=Discrepancy.Status.CLOSED, resolved_at=stamp, resolved_by=None)
    mine.filter(last_seen_at=stamp, status__in=[Discrepancy.Status.CLOSED, Discrepancy.Status.TOOK_CARRIER]).update(
        status=Discrepancy.Status.OPEN, resolved_at=None, resolved_by=None)
