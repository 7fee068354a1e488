"""AgencyDesk <-> the benefits-admin system (BenefitPoint): every value map is a table, tested per value.

Plans are compared in the benefits-admin system's terms (``comparable_local`` / ``comparable_remote``
give the same keys), because its value sets are the coarser ones: two AgencyDesk statuses that are
both "Expired" there are equal, so a value never bounces back and forth. A value with no
counterpart raises ``Unmappable`` with the reason: that plan's sync fails, nothing is defaulted.
"""

import json
import re
from decimal import Decimal

from plans.models import Plan

DETAILS = ["name", "policyNumber", "productTypeID", "carrierID", "productStatus", "effectiveAsOf", "renewalOn", "cancellationOn", "billingType"]
BENEFITS = ["benefitSummary"]
RATES = ["rates"]
CATEGORIES = {"details": DETAILS, "benefits": BENEFITS, "rates": RATES}
FIELD_LABELS = {
    "name": "Plan name",
    "policyNumber": "Policy number",
    "productTypeID": "Line of coverage",
    "carrierID": "Carrier",
    "productStatus": "Status",
    "effectiveAsOf": "Effective date",
    "renewalOn": "Renewal date",
    "cancellationOn": "Cancellation date",
    "billingType": "Billing type",
    "benefitSummary": "Benefits",
    "rates": "Rates",
}


class Unmappable(ValueError):
    """A value with no counterpart on the other side; ``str()`` is the reason shown to staff."""


# Lines of coverage by productTypeID: accident, critical illness and hospital indemnity have no line
# of their own there (all "Limited_Benefit_Products"), so the product type tells them apart.
PRODUCT_TYPE_TO_LINE = {
    101: Plan.Line.MEDICAL,
    102: Plan.Line.DENTAL,
    103: Plan.Line.VISION,
    104: Plan.Line.LIFE,
    105: Plan.Line.ADD,
    107: Plan.Line.STD,
    108: Plan.Line.LTD,
    111: Plan.Line.ACCIDENT,
    112: Plan.Line.CRITICAL_ILLNESS,
    113: Plan.Line.HOSPITAL_INDEMNITY,
}
LINE_TO_PRODUCT_TYPE = {line: type_id for type_id, line in PRODUCT_TYPE_TO_LINE.items()}
# Product types with no AgencyDesk line: Life and AD&D combined, voluntary life / AD&D, EAP,
# Section 125, stop loss, retirement, additional product, work/life.
UNMAPPED_PRODUCT_TYPES = {106, 109, 110, 114, 115, 116, 117, 118, 119}

STATUS_TO_REMOTE = {
    Plan.Status.PENDING: "Pending",
    Plan.Status.ACTIVE: "Current",
    Plan.Status.RENEWED: "Expired",
    Plan.Status.CANCELLED: "Cancelled",
    Plan.Status.TERMINATED: "Expired",
}
STATUS_FROM_REMOTE = {
    "Pending": Plan.Status.PENDING,
    "Current": Plan.Status.ACTIVE,
    "Cancelled": Plan.Status.CANCELLED,
    "Expired": Plan.Status.TERMINATED,
}

BILLING_TO_REMOTE = {Plan.BillingType.DIRECT_BILL: "Direct_Bill", Plan.BillingType.LIST_BILL: "Agency_Bill"}
BILLING_FROM_REMOTE = {"Direct_Bill": Plan.BillingType.DIRECT_BILL, "Agency_Bill": Plan.BillingType.LIST_BILL}
# Self bill (the employer bills itself) has no counterpart there.

CARRIER_FROM_REMOTE = {  # carrierID -> AgencyDesk carrier code
    2001: "uhc",
    2002: "aetna",
    2003: "cigna",
    2004: "anthem",
    2005: "bcbs",
    2006: "kaiser",
    2007: "humana",
    2010: "delta-dental",
    2011: "guardian",
    2012: "metlife",
    2013: "ameritas",
    2020: "vsp",
    2021: "eyemed",
    2030: "lincoln",
    2031: "principal",
    2032: "sun-life",
    2033: "unum",
    2034: "hartford",
    2040: "aflac",
    2041: "mutual-of-omaha",
}
CARRIER_TO_REMOTE = {code: carrier_id for carrier_id, code in CARRIER_FROM_REMOTE.items()}

TIER_TO_REMOTE = {
    "employee": "Employee Only",
    "employee_spouse": "Employee + Spouse",
    "employee_children": "Employee + Child(ren)",
    "family": "Family",
}
TIER_FROM_REMOTE = {text: tier for tier, text in TIER_TO_REMOTE.items()}
BAND_RE = re.compile(r"^Age (\d+)(?:-(\d+)|\+)$")


def _lookup(table: dict, value, what: str):
    if value not in table:
        raise Unmappable(f"{what} {value!r} has no counterpart on the other side")
    return table[value]


def line_from_remote(product_type_id) -> str:
    if product_type_id in UNMAPPED_PRODUCT_TYPES:
        raise Unmappable(f"the benefits-admin product type {product_type_id} has no AgencyDesk line of coverage")
    return _lookup(PRODUCT_TYPE_TO_LINE, product_type_id, "The benefits-admin product type")


def carrier_code_from_remote(carrier_id) -> str:
    return _lookup(CARRIER_FROM_REMOTE, carrier_id, "The benefits-admin carrier")


def status_from_remote(status: str, current: str | None = None) -> str:
    """Expired there is Renewed or Terminated here: a plan already one of the two keeps its status."""
    if status == "Expired" and current in (Plan.Status.RENEWED, Plan.Status.TERMINATED):
        return current
    return _lookup(STATUS_FROM_REMOTE, status, "The benefits-admin status")


def tier_to_remote(rate: dict) -> str:
    if rate.get("tier"):
        return _lookup(TIER_TO_REMOTE, rate["tier"], "The rate tier")
    return f"Age {rate['age_min']}+" if rate.get("age_max") is None else f"Age {rate['age_min']}-{rate['age_max']}"


def tier_from_remote(description: str) -> dict:
    if description in TIER_FROM_REMOTE:
        return {"tier": TIER_FROM_REMOTE[description], "age_min": None, "age_max": None}
    match = BAND_RE.match(description or "")
    if not match:
        raise Unmappable(f"The benefits-admin rate tier {description!r} has no counterpart on the other side")
    return {"tier": "", "age_min": int(match[1]), "age_max": int(match[2]) if match[2] else None}


def contact_name(first: str, last: str) -> str:
    """There: first and last name; here: one name."""
    return " ".join(p.strip() for p in (first or "", last or "") if p and p.strip())


def split_contact_name(name: str) -> tuple[str, str]:
    """One name into (first, last): the last word is the last name (both are required there)."""
    parts = (name or "").split()
    if len(parts) < 2:
        raise Unmappable(f"The contact name {name!r} needs a first and a last name there")
    return " ".join(parts[:-1]), parts[-1]


def _money(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def comparable_local(plan: Plan, rates: list[dict]) -> dict:
    """The plan in the benefits-admin system's terms (raises ``Unmappable``)."""
    return {
        "name": plan.name,
        "policyNumber": plan.policy_number or "",
        "productTypeID": _lookup(LINE_TO_PRODUCT_TYPE, plan.line_of_coverage, "The line of coverage"),
        "carrierID": _lookup(CARRIER_TO_REMOTE, plan.carrier.code, "The carrier"),
        "productStatus": _lookup(STATUS_TO_REMOTE, plan.status, "The plan status"),
        "effectiveAsOf": plan.effective_date.isoformat(),
        "renewalOn": plan.renewal_date.isoformat(),
        "cancellationOn": plan.cancellation_date.isoformat() if plan.cancellation_date else None,
        "billingType": _lookup(BILLING_TO_REMOTE, plan.billing_type, f"The billing type {plan.get_billing_type_display()!r}:"),
        "benefitSummary": dict(sorted((plan.benefit_summary or {}).items())),
        "rates": sorted([tier_to_remote(r), _money(r["monthly_rate"])] for r in rates),
    }


def comparable_remote(product: dict, rate: dict | None) -> dict:
    """The product (and its rate) with the same keys as ``comparable_local``."""
    summary = {}
    for item in product.get("benefitSummary") or []:
        try:
            summary[item["attribute"]] = json.loads(item["value"])
        except (TypeError, ValueError):
            summary[item["attribute"]] = item["value"]
    return {
        "name": product.get("name") or "",
        "policyNumber": product.get("policyNumber") or "",
        "productTypeID": product.get("productTypeID"),
        "carrierID": product.get("carrierID"),
        "productStatus": product.get("productStatus"),
        "effectiveAsOf": product.get("effectiveAsOf"),
        "renewalOn": product.get("renewalOn"),
        "cancellationOn": product.get("cancellationOn"),
        "billingType": product.get("billingType"),
        "benefitSummary": dict(sorted(summary.items())),
        "rates": sorted([t["description"], _money(t["monthlyPremium"])] for t in (rate or {}).get("rateTiers") or []),
    }


def local_changes(values: dict, plan: Plan | None) -> tuple[dict, list[dict] | None]:
    """Comparable values -> (plan fields for ``plan_update``/``plan_create``, rates or None)."""
    from plans.models import Carrier

    data: dict = {}
    for key, value in values.items():
        if key == "name":
            data["name"] = value
        elif key == "policyNumber":
            data["policy_number"] = value or ""
        elif key == "productTypeID":
            data["line_of_coverage"] = line_from_remote(value)
        elif key == "carrierID":
            code = carrier_code_from_remote(value)
            data["carrier"] = Carrier.objects.filter(code=code).first()
            if data["carrier"] is None:
                raise Unmappable(f"The carrier {code!r} is not in AgencyDesk")
        elif key == "productStatus":
            data["status"] = status_from_remote(value, plan.status if plan else None)
        elif key in ("effectiveAsOf", "renewalOn", "cancellationOn"):
            data[{"effectiveAsOf": "effective_date", "renewalOn": "renewal_date", "cancellationOn": "cancellation_date"}[key]] = value
        elif key == "billingType":
            data["billing_type"] = _lookup(BILLING_FROM_REMOTE, value, "The benefits-admin billing type")
        elif key == "benefitSummary":
            data["benefit_summary"] = value
    rates = None
    if "rates" in values:
        rates = [{**tier_from_remote(desc), "monthly_rate": Decimal(amount)} for desc, amount in values["rates"]]
        data["rate_basis"] = Plan.RateBasis.TIERED if rates and all(r["tier"] for r in rates) else Plan.RateBasis.AGE_BANDED
    return data, rates


def remote_changes(values: dict) -> tuple[dict, list[dict] | None]:
    """Comparable values -> (product fields for ``updateProduct``/``createProduct``, rate tiers or None)."""
    product = {k: v for k, v in values.items() if k not in ("benefitSummary", "rates")}
    if "benefitSummary" in values:
        product["benefitSummary"] = [{"attribute": k, "value": json.dumps(v)} for k, v in values["benefitSummary"].items()]
    tiers = [{"description": d, "monthlyPremium": a} for d, a in values["rates"]] if "rates" in values else None
    return product, tiers


# How the benefits-admin system's words read here: its status and billing type as AgencyDesk calls them.
STATUS_LABELS = {"Pending": "Pending", "Current": "Active", "Cancelled": "Cancelled", "Expired": "Expired (renewed or terminated)"}
BENEFIT_PREFIX, RATE_PREFIX = "Benefit", "Monthly rate"


def _benefit_kinds(product_type_id=None) -> dict[str, tuple[str, str]]:
    """Benefit key -> (kind, label): the plan's own line first, then every line's (a key means one thing)."""
    from plans.benefit_summary import SCHEMA

    line = PRODUCT_TYPE_TO_LINE.get(product_type_id)
    kinds: dict[str, tuple[str, str]] = dict(SCHEMA.get(line, {})) if line else {}
    for schema in SCHEMA.values():
        for key, spec in schema.items():
            kinds.setdefault(key, spec)
    return kinds


def benefit_value(kind: str, value) -> str:
    """One benefit as a person reads it: money with its sign, percentages, Yes/No."""
    from core import display as shown
    from plans.benefit_summary import COUNT, FLAG, MONEY, NUMBER, PERCENT

    if value is None or value == "":
        return shown.EMPTY
    if kind == FLAG and isinstance(value, bool):
        return "Yes" if value else "No"
    if kind == MONEY:
        return shown.custom_field_text("currency", value)
    if kind == PERCENT:
        return shown.custom_field_text("percent", value)
    if kind in (COUNT, NUMBER):
        return shown.custom_field_text("number", value)
    return shown.text(value)


def benefit_lines(summary, product_type_id=None) -> dict[str, tuple[str, str]]:
    """A benefit summary flattened to one line per benefit (copays one each): key -> (label, value shown)."""
    from core.display import humanize_key
    from plans.benefit_summary import COPAY_LABELS, COPAYS, MONEY, TEXT

    kinds, lines = _benefit_kinds(product_type_id), {}
    for key, value in (summary if isinstance(summary, dict) else {}).items():
        kind, label = kinds.get(key, (TEXT, humanize_key(key)))
        if kind == COPAYS and isinstance(value, dict):
            for name, amount in value.items():
                lines[f"copays.{name}"] = (f"Copay: {COPAY_LABELS.get(name, humanize_key(name))}", benefit_value(MONEY, amount))
        else:
            lines[key] = (label, benefit_value(kind, value))
    return lines


def _rate_lines(rates) -> dict[str, str]:
    from core.display import custom_field_text

    return {str(tier): custom_field_text("currency", amount) for tier, amount in (rates or [])}


def change_lines(field: str, old, new, *, product_type_id=None) -> list[tuple[str, str, str]]:
    """What changed in ``field`` as (label, old, new) lines a person reads: each changed benefit and each
    changed rate tier its own line, with labels and money as money; every other field one line."""
    from core.display import EMPTY

    if field == "benefitSummary":
        before, after = benefit_lines(old, product_type_id), benefit_lines(new, product_type_id)
        keys = list(dict.fromkeys([*after, *before]))
        return [
            (f"{BENEFIT_PREFIX}: {(after.get(k) or before.get(k))[0]}", before.get(k, ("", EMPTY))[1], after.get(k, ("", EMPTY))[1])
            for k in keys
            if before.get(k, ("", EMPTY))[1] != after.get(k, ("", EMPTY))[1]
        ]
    if field == "rates":
        before, after = _rate_lines(old), _rate_lines(new)
        tiers = list(dict.fromkeys([*after, *before]))
        return [(f"{RATE_PREFIX}: {t}", before.get(t, EMPTY), after.get(t, EMPTY)) for t in tiers if before.get(t, EMPTY) != after.get(t, EMPTY)]
    shown_old, shown_new = display(field, old), display(field, new)
    return [(FIELD_LABELS.get(field, field), shown_old, shown_new)] if shown_old != shown_new else []


def display(field: str, value) -> str:
    """A value as a person reads it in a run's changes or a conflict."""
    from core.display import custom_field_text
    from plans.models import Carrier

    if value in (None, "", [], {}):
        return "—"
    if field == "carrierID":
        carrier = Carrier.objects.filter(code=CARRIER_FROM_REMOTE.get(value, "")).first()
        return carrier.name if carrier else f"Carrier {value} (not in AgencyDesk)"
    if field == "productTypeID":
        line = PRODUCT_TYPE_TO_LINE.get(value)
        return Plan.Line(line).label if line else f"Product type {value} (no AgencyDesk line)"
    if field == "productStatus":
        return STATUS_LABELS.get(value, str(value).replace("_", " "))
    if field == "billingType":
        billing = BILLING_FROM_REMOTE.get(value)
        return Plan.BillingType(billing).label if billing else str(value).replace("_", " ")
    if field in ("effectiveAsOf", "renewalOn", "cancellationOn"):
        return custom_field_text("date", str(value)[:10])
    if field == "benefitSummary":
        return "; ".join(f"{label}: {shown}" for label, shown in benefit_lines(value).values())
    if field == "rates":
        return "; ".join(f"{tier}: {amount}" for tier, amount in _rate_lines(value).items())
    return str(value)
