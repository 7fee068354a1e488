"""The comparison of a carrier's view of a group with ours: set-based, four queries for a typical group.

The carrier's members (any compared field differing, or no id of ours), our employees no member is linked to,
the carrier's plans, and our plans none is linked to: each one query over the pulled rows joined to ours, read
in keyset chunks of ``CHUNK`` rows (plain queries: one round trip when the result is small, flat memory when it
is not). The rows are written in batches with one ``INSERT … ON CONFLICT (connection, field, subject) DO
UPDATE`` each. A discrepancy not seen again closes itself ("values agree"); one seen
again after it was taken or closed opens again.
"""

from collections.abc import Iterable

from django.db import connection as db
from django.db import transaction
from django.db.models import F, Lookup, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import commit_without_waiting_for_disk, upsert_rows
from hrsync.models import Employee
from plans.models import Plan

from ..mapping import FIELDS, MEMBER_COMPARISONS
from ..models import CarrierConnection, CarrierMember, CarrierPlan, Discrepancy

BATCH = 1000
CHUNK = 2000
OPEN_STATES = [Discrepancy.Status.OPEN, Discrepancy.Status.KEPT_OURS, Discrepancy.Status.ACKNOWLEDGED]
UPDATED = ["kind", "severity", "subject", "employee", "plan", "carrier_value", "our_value", "last_seen_at"]
COLUMNS = (  # a row of _Writer, in this order
    "connection",
    "employer_group",
    "carrier",
    "kind",
    "field",
    "severity",
    "subject_key",
    "subject",
    "employee",
    "plan",
    "carrier_value",
    "our_value",
    "status",
    "noyo_discrepancy_id",
    "noyo_status",
    "resolved_by",
    "resolved_at",
    "first_seen_at",
    "last_seen_at",
)


def _value(value) -> str:
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


class _DistinctFrom(Lookup):
    """``lhs IS DISTINCT FROM rhs``: differs, NULL-safe (PostgreSQL; SQLite 3.39+). Used as an expression."""

    lookup_name = "distinct_from"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IS DISTINCT FROM {rhs}", (*lhs_params, *rhs_params)


class _Writer:
    """Discrepancy rows, upserted ``BATCH`` at a time by one ``INSERT … ON CONFLICT`` statement each (built once
    per process: ``core.db.upsert_rows``)."""

    def __init__(self, connection: CarrierConnection, stamp):
        self.connection, self.stamp, self.rows, self.count = connection, stamp, [], 0
        self._stamp = Discrepancy._meta.get_field("last_seen_at").get_db_prep_save(stamp, db)
        self._context = (connection.pk, connection.employer_group_id, connection.carrier_id)

    def add(
        self,
        *,
        field: str,
        kind: str,
        subject_key: str,
        subject: str = "",
        carrier_value="",
        our_value="",
        employee_id=None,
        plan_id=None,
        noyo_discrepancy_id: str = "",
        noyo_status: str = "",
    ) -> None:
        self.rows.append(
            (
                *self._context,
                str(kind),
                field,
                FIELDS.get(field, ("", 2))[1],
                subject_key,
                subject[:200],
                employee_id,
                plan_id,
                _value(carrier_value)[:255],
                _value(our_value)[:255],
                Discrepancy.Status.OPEN.value,
                noyo_discrepancy_id,
                noyo_status,
                None,  # resolved_by
                None,  # resolved_at
                self._stamp,  # first_seen_at
                self._stamp,  # last_seen_at
            )
        )
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self, update_fields: list[str] = UPDATED) -> None:
        if self.rows:
            upsert_rows(Discrepancy, COLUMNS, self.rows, unique=("connection", "field", "subject_key"), update=tuple(update_fields))
            self.count += len(self.rows)
            self.rows = []


def _chunks(queryset: QuerySet, key: str, *fields: str) -> Iterable[tuple]:
    """``(key, *fields)`` rows read ``CHUNK`` at a time by keyset (``key > last``): plain queries, so a small result
    is one round trip, and memory stays flat however large the result."""
    last, queryset = None, queryset.order_by(key).values_list(key, *fields)
    while True:
        rows = list((queryset if last is None else queryset.filter(**{f"{key}__gt": last}))[:CHUNK])
        yield from rows
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]


@transaction.atomic  # one commit for the comparison, its upserts and the settling
def discrepancies_compare(*, connection: CarrierConnection, stamp=None, finish: bool = True) -> int:
    """Record every difference between the pulled rows and ours; returns how many were seen.

    ``finish=False`` leaves closing and reopening to the caller (the pull merges the service's own first).
    """
    stamp = stamp or timezone.now()
    commit_without_waiting_for_disk()  # discrepancies are derived data the next pull recomputes
    out, Kind = _Writer(connection, stamp), Discrepancy.Kind
    members = CarrierMember.objects.filter(connection=connection).order_by()
    # ONE query over the carrier's members: the linked ones with any compared field differing, and the active ones
    # with no id of ours (and no link a person confirmed). The per-field check below applies the same rule as the
    # SQL (text: blank equals missing; dates: NULL-safe).
    annotations = {
        f"_o_{field}": Coalesce(F(ours), Value("")) if kind == "text" else F(ours) for field, (theirs, ours, kind) in MEMBER_COMPARISONS.items()
    }
    differs = Q()
    for field, (theirs, ours, kind) in MEMBER_COMPARISONS.items():
        differs |= ~Q(**{theirs: F(f"_o_{field}")}) if kind == "text" else Q(_DistinctFrom(F(theirs), F(ours)))
    columns = [(field, theirs) for field, (theirs, _, _) in MEMBER_COMPARISONS.items()]
    rows = members.annotate(**annotations).filter(Q(employee__isnull=False) & differs | Q(employee__isnull=True, terminated_date__isnull=True))
    for row in _chunks(
        rows,
        "pk",
        "noyo_id",
        "employee_id",
        "first_name",
        "last_name",
        "employee__first_name",
        "employee__last_name",
        *[theirs for _, theirs in columns],
        *annotations,
    ):
        noyo_id, employee_id = row[1:3]
        if employee_id is None:
            out.add(field="member", kind=Kind.MISSING_HERE, subject_key=f"member:{noyo_id}", subject=f"{row[3]} {row[4]}", carrier_value="present")
            continue
        theirs_values, ours_values = row[7 : 7 + len(columns)], row[7 + len(columns) :]
        for (field, _), carrier_value, our_value in zip(columns, theirs_values, ours_values, strict=True):
            if carrier_value != our_value:
                out.add(
                    field=field,
                    kind=Kind.MISMATCH,
                    subject_key=f"member:{noyo_id}",
                    subject=f"{row[5]} {row[6]}",
                    employee_id=employee_id,
                    carrier_value=carrier_value,
                    our_value=our_value,
                )
    # Ours, active, that no carrier member is linked to.
    missing = Employee.objects.filter(employer_group_id=connection.employer_group_id, leave_date__isnull=True).exclude(
        pk__in=members.filter(employee__isnull=False).values("employee_id")
    )
    for pk, first, last in _chunks(missing, "pk", "first_name", "last_name"):
        out.add(
            field="member", kind=Kind.MISSING_AT_CARRIER, subject_key=f"employee:{pk}", subject=f"{first} {last}", employee_id=pk, our_value="present"
        )
    # ONE query over the carrier's plans: the linked ones' dates (NULL-safe, as above), the unlinked ones missing here.
    plans = CarrierPlan.objects.filter(connection=connection)
    dates = (
        ("plan_effective_date", "effective_start_date", "plan__effective_date"),
        ("plan_termination_date", "effective_end_date", "plan__cancellation_date"),
    )
    for _pk, noyo_id, plan_id, name, our_name, *values in _chunks(
        plans, "pk", "noyo_id", "plan_id", "name", "plan__name", *[f for _, theirs, ours in dates for f in (theirs, ours)]
    ):
        if plan_id is None:
            out.add(field="plan", kind=Kind.MISSING_HERE, subject_key=f"carrier_plan:{noyo_id}", subject=name, carrier_value="present")
            continue
        for (field, _, _), carrier_value, our_value in zip(dates, values[::2], values[1::2], strict=True):
            if carrier_value != our_value:
                out.add(
                    field=field,
                    kind=Kind.MISMATCH,
                    subject_key=f"carrier_plan:{noyo_id}",
                    subject=our_name,
                    plan_id=plan_id,
                    carrier_value=carrier_value,
                    our_value=our_value,
                )
    ours_missing = Plan.objects.filter(
        group_id=connection.employer_group_id, carrier_id=connection.carrier_id, status__in=[Plan.Status.ACTIVE, Plan.Status.PENDING]
    ).exclude(pk__in=plans.filter(plan__isnull=False).values("plan_id"))
    for pk, name in _chunks(ours_missing, "pk", "name"):
        out.add(field="plan", kind=Kind.MISSING_AT_CARRIER, subject_key=f"plan:{pk}", subject=name, plan_id=pk, our_value="present")
    out.flush()
    if finish:
        discrepancies_settle(connection=connection, stamp=stamp)
    return out.count


def discrepancies_settle(*, connection: CarrierConnection, stamp) -> None:
    """After a comparison at ``stamp``: close what was not seen again, reopen what came back."""
    mine = Discrepancy.objects.filter(connection=connection)
    mine.filter(status__in=OPEN_STATES, last_seen_at__lt=stamp).update(status=Discrepancy.Status.CLOSED, resolved_at=stamp, resolved_by=None)
    mine.filter(last_seen_at=stamp, status__in=[Discrepancy.Status.CLOSED, Discrepancy.Status.TOOK_CARRIER]).update(
        status=Discrepancy.Status.OPEN, resolved_at=None, resolved_by=None
    )
