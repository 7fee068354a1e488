"""The service's names and values, turned into ours: one table per value set (STYLE.md)."""

import re
import uuid
from datetime import date

# Connection statuses as the contract lists them, with the words staff read.
CONNECTION_STATUS_LABELS = {
    "created": "Created",
    "processing": "Processing",
    "noyo_review": "In review at the service",
    "waiting_on_carrier": "Waiting on the carrier",
    "carrier_authorization": "Needs carrier authorisation",
    "action_required": "Action required",
    "unable_to_connect": "Unable to connect",
    "completed": "Completed",
}
# Nothing more will happen without us: not polled; a new request for the same group and carrier is allowed.
SETTLED_STATUSES = ["completed", "unable_to_connect"]
# A person may amend and retry these.
RETRYABLE_STATUSES = ["action_required", "unable_to_connect"]
# Statuses that wait on us, not on the carrier: polled only after a retry.
WAITING_ON_US = ["action_required"]

EIN_RE = re.compile(r"^(\d{2})-?(\d{7})$")

# field -> (label, severity 1 coverage / 2 personal / 3 contact)
FIELDS = {
    "member": ("Member", 1),
    "effective_date": ("Effective date (hire date)", 1),
    "termination_date": ("Termination date (leave date)", 1),
    "coverage_tier": ("Coverage tier (benefits level)", 1),
    "plan": ("Plan", 1),
    "plan_effective_date": ("Plan effective date", 1),
    "plan_termination_date": ("Plan termination date", 1),
    "date_of_birth": ("Date of birth", 2),
    "first_name": ("First name", 2),
    "last_name": ("Last name", 2),
    "email": ("Email", 3),
}
FIELD_LABELS = {k: v[0] for k, v in FIELDS.items()} | {
    "carrier_group_id": "Carrier group id",
    "federal_ein": "Federal EIN",
    "broker_federal_ein": "Broker federal EIN",
    "broker_tin": "Broker TIN",
    "employer_email_address": "Employer email",
    "group_name": "Group name",
}

# Member fields compared field by field: field -> (CarrierMember column, our expression, kind of value).
MEMBER_COMPARISONS = {
    "effective_date": ("hire_date", "employee__hire_date", "date"),
    "termination_date": ("terminated_date", "employee__leave_date", "date"),
    "coverage_tier": ("coverage_tier", "employee__benefits_level__name", "text"),
    "date_of_birth": ("date_of_birth", "employee__date_of_birth", "date"),
    "first_name": ("first_name", "employee__first_name", "text"),
    "last_name": ("last_name", "employee__last_name", "text"),
    "email": ("email", "employee__email", "text"),
}
# Taking the carrier's value: which employee field it writes (through hrsync's services).
EMPLOYEE_FIELDS = {
    "effective_date": "hire_date",
    "termination_date": "leave_date",
    "coverage_tier": "benefits_level",
    "date_of_birth": "date_of_birth",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
}
PLAN_FIELDS = {"plan_effective_date": "effective_date", "plan_termination_date": "cancellation_date"}
# The service's discrepancy contexts that name one of our fields.
SERVICE_CONTEXTS = {"hire_date": "effective_date", "terminated": "termination_date", **{k: k for k in FIELDS}}


def normalize_ein(value: str) -> str | None:
    """``123456789`` or ``12-3456789`` -> ``12-3456789``; None when it is not an EIN."""
    match = EIN_RE.match((value or "").strip())
    return f"{match.group(1)}-{match.group(2)}" if match else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def custom_id_to_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def member_from_noyo(data: dict) -> dict:
    """A carrier's employee (``EmployeeResult``) as CarrierMember fields; unknown or missing parts are blank."""
    person = data.get("person") or {}
    employment = data.get("employment") or {}
    dates = employment.get("employment_dates") or {}
    classifications = data.get("classifications") or {}
    return {
        "noyo_id": _text(data.get("id"), 36),
        "custom_individual_id": _text(data.get("custom_individual_id"), 60),
        "first_name": _text(person.get("first_name"), 100),
        "last_name": _text(person.get("last_name"), 100),
        "date_of_birth": _date(person.get("date_of_birth")),
        "email": _text((person.get("contact") or {}).get("email_address"), 254).lower(),
        "hire_date": _date(dates.get("hire_date")),
        "terminated_date": _date(dates.get("terminated")),
        "employment_status": _text(employment.get("employment_status"), 30),
        "coverage_tier": _text(classifications.get("coverage_tier") if isinstance(classifications, dict) else "", 100),
    }


def plan_from_noyo(data: dict) -> dict:
    """A carrier's plan (a free-form object in the contract) as CarrierPlan fields."""
    return {
        "noyo_id": _text(data.get("id"), 36),
        "custom_plan_id": _text(data.get("custom_plan_id"), 60),
        "name": _text(data.get("name"), 200),
        "line_of_coverage": _text(data.get("line_of_coverage"), 30),
        "effective_start_date": _date(data.get("effective_start_date")),
        "effective_end_date": _date(data.get("effective_end_date")),
    }


def setup_message(data: dict) -> str:
    """The service's ``setup_result`` errors in one line for people."""
    result = data.get("setup_result") or {}
    errors = result.get("errors") if isinstance(result, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(str(e.get("message") or e) if isinstance(e, dict) else str(e) for e in errors)
