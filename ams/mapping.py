"""The AMS's names and values onto ours: one table per value set, each tested value by value.

A value with no mapping is a ``MappingError`` naming it: that record's sync fails with the reason,
never a silent default.
"""

import re
from datetime import date
from decimal import Decimal

from individuals.models import Policy, USState
from plans.models import EmployerGroup

SYSTEM = "ams"
CUSTOMER, CONTACT, POLICY = "customer", "contact", "policy"

POLICY_TYPES = {  # AMS PolicyType -> our coverage type (personal lines)
    "MEDADV": Policy.CoverageType.MEDICARE_ADVANTAGE,
    "MEDSUP": Policy.CoverageType.MEDICARE_SUPPLEMENT,
    "PDP": Policy.CoverageType.PART_D,
    "ACA": Policy.CoverageType.ACA,
    "HEALTH": Policy.CoverageType.HEALTH,
    "DENTAL": Policy.CoverageType.DENTAL,
    "VISION": Policy.CoverageType.VISION,
    "LIFE": Policy.CoverageType.LIFE,
    "ANNUITY": Policy.CoverageType.ANNUITY,
    "HOSPIND": Policy.CoverageType.HOSPITAL_INDEMNITY,
    "CANCER": Policy.CoverageType.CANCER,
    "LTC": Policy.CoverageType.LONG_TERM_CARE,
}
POLICY_STATUSES = {  # AMS PolicyStatus -> our policy status
    "Active": Policy.Status.ACTIVE,
    "Pending": Policy.Status.PENDING,
    "Cancelled": Policy.Status.CANCELLED,
    "Expired": Policy.Status.TERMINATED,
    "NonRenewed": Policy.Status.TERMINATED,
    "Declined": Policy.Status.DECLINED,
}
# Fields the AMS owns on linked records (a local edit to one is refused).
INDIVIDUAL_FIELDS = [
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "home_phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "record_status",
]
GROUP_FIELDS = ["name", "dba", "federal_ein", "status"]
POLICY_FIELDS = ["carrier", "policy_number", "coverage_type", "status", "effective_date", "renewal_date", "premium"]

_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_EIN = re.compile(r"^\d{2}-?\d{7}$")


class MappingError(ValueError):
    """An AMS value we have no mapping for; the message says which, for a person to act on."""


def _text(value, limit: int = 200) -> str:
    return str(value or "").strip()[:limit]


def is_commercial(customer: dict) -> bool:
    return bool(customer.get("IsCommercial")) and not customer.get("IsPersonal")


def customer_display_name(customer: dict) -> str:
    if customer.get("FirmName"):
        return _text(customer["FirmName"])
    return " ".join(filter(None, [_text(customer.get("FirstName")), _text(customer.get("LastName"))])) or "(no name)"


def _record_status(customer: dict) -> str:
    if customer.get("CustomerType") == "Prospect":
        return "prospect"
    return "active" if customer.get("IsActive", True) else "inactive"


def individual_values(customer: dict) -> dict:
    """A personal customer's fields as an individual's."""
    state = _text(customer.get("State"), 2).upper()
    zip_code = _text(customer.get("ZipCode"), 10)
    return {
        "first_name": _text(customer.get("FirstName"), 100) or "-",
        "middle_name": _text(customer.get("MiddleName"), 100),
        "last_name": _text(customer.get("LastName") or customer.get("FirmName"), 100) or "-",
        "email": _text(customer.get("Email"), 254),
        "home_phone": _text(customer.get("HomePhone"), 30),
        "address_line1": _text(customer.get("AddressLine1")),
        "address_line2": _text(customer.get("AddressLine2")),
        "city": _text(customer.get("City"), 100),
        "state": state if state in USState.values else "",
        "zip_code": zip_code if _ZIP.match(zip_code) else "",
        "record_status": _record_status(customer),
    }


def group_values(customer: dict) -> dict:
    """A commercial customer's fields as an employer group's."""
    ein = _text(customer.get("FederalTaxIdNumber"), 10)
    status = _record_status(customer)
    return {
        "name": customer_display_name(customer),
        "dba": _text(customer.get("DoingBusinessAs")),
        "federal_ein": ein if _EIN.match(ein) else "",
        "status": {"prospect": EmployerGroup.Status.PROSPECT, "inactive": EmployerGroup.Status.INACTIVE}.get(status, EmployerGroup.Status.ACTIVE),
    }


def contact_values(contacts: list[dict]) -> list[dict]:
    """A commercial customer's contacts as a group's, in SortOrder; the first is the primary contact."""
    ordered = sorted(contacts, key=lambda c: (c.get("SortOrder") if c.get("SortOrder") is not None else 999, c.get("CustomerContactId") or ""))
    return [
        {
            "name": _text(c.get("ContactName")) or "-",
            "title": _text(c.get("Title"), 100),
            "email": _text(c.get("EmailAddress"), 254),
            "phone": _text(c.get("BusinessPhone"), 30),
            "is_primary": n == 0,
        }
        for n, c in enumerate(ordered)
    ]


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def policy_values(policy: dict, carriers: dict) -> dict:
    """A personal-lines policy's fields as an individual's policy; ``carriers``: code -> Carrier."""
    kind = policy.get("PolicyType") or ""
    if kind not in POLICY_TYPES:
        raise MappingError(f"Policy type {kind!r} has no coverage type in AgencyDesk.")
    status = policy.get("PolicyStatus") or ""
    if status not in POLICY_STATUSES:
        raise MappingError(f"Policy status {status!r} has no policy status in AgencyDesk.")
    code = policy.get("WritingCompanyCode") or ""
    if code not in carriers:
        raise MappingError(f"Writing company {code!r} is not a carrier code in AgencyDesk.")
    premium = policy.get("FullTermPremium")
    return {
        "carrier": carriers[code],
        "policy_number": _text(policy.get("PolicyNumber"), 50),
        "coverage_type": POLICY_TYPES[kind].value,
        "status": POLICY_STATUSES[status].value,
        "effective_date": _date(policy.get("PolicyEffectiveDate")),
        "renewal_date": _date(policy.get("PolicyExpirationDate")),
        "premium": None if premium in (None, "") else Decimal(str(premium)).quantize(Decimal("0.01")),
    }
