"""The benefit summary of a plan: which keys apply to each line of coverage, their checks and labels.

A summary is a flat JSON object (``copays`` is the one nested object, medical only). Keys that do
not apply to the plan's line are refused, so a dental plan never carries a medical deductible.
"""

from decimal import Decimal, InvalidOperation

from core import display

MONEY, PERCENT, COUNT, NUMBER, FLAG, TEXT, COPAYS = "money", "percent", "count", "number", "flag", "text", "copays"

COPAY_LABELS = {
    "primary_care": "Primary care visit",
    "specialist": "Specialist visit",
    "urgent_care": "Urgent care",
    "emergency_room": "Emergency room",
    "generic_rx": "Generic drugs",
    "brand_rx": "Brand drugs",
}

_DEDUCTIBLES = {
    "deductible_individual": (MONEY, "Deductible (individual)"),
    "deductible_family": (MONEY, "Deductible (family)"),
}

SCHEMA: dict[str, dict[str, tuple[str, str]]] = {
    "medical": {
        "network": (TEXT, "Network"),
        **_DEDUCTIBLES,
        "oop_max_individual": (MONEY, "Out-of-pocket max (individual)"),
        "oop_max_family": (MONEY, "Out-of-pocket max (family)"),
        "coinsurance": (PERCENT, "Coinsurance (member pays)"),
        "copays": (COPAYS, "Copays"),
        "hsa_eligible": (FLAG, "HSA eligible"),
    },
    "dental": {
        "network": (TEXT, "Network"),
        **_DEDUCTIBLES,
        "annual_maximum": (MONEY, "Annual maximum"),
        "coinsurance_preventive": (PERCENT, "Preventive (plan pays)"),
        "coinsurance_basic": (PERCENT, "Basic services (plan pays)"),
        "coinsurance_major": (PERCENT, "Major services (plan pays)"),
        "orthodontia_lifetime_max": (MONEY, "Orthodontia lifetime max"),
    },
    "vision": {
        "exam_copay": (MONEY, "Eye exam copay"),
        "materials_copay": (MONEY, "Materials copay"),
        "frame_allowance": (MONEY, "Frame allowance"),
        "contact_lens_allowance": (MONEY, "Contact lens allowance"),
        "exam_frequency_months": (COUNT, "Exam every (months)"),
    },
    "life": {
        "benefit_amount": (MONEY, "Benefit amount"),
        "salary_multiple": (NUMBER, "Multiple of salary"),
        "guarantee_issue": (MONEY, "Guarantee issue"),
        "age_reduction": (TEXT, "Age reduction"),
    },
    "add": {
        "benefit_amount": (MONEY, "Benefit amount"),
        "salary_multiple": (NUMBER, "Multiple of salary"),
    },
    "std": {
        "benefit_percent": (PERCENT, "Benefit (% of pay)"),
        "weekly_maximum": (MONEY, "Weekly maximum"),
        "elimination_days": (COUNT, "Elimination period (days)"),
        "benefit_weeks": (COUNT, "Benefit duration (weeks)"),
    },
    "ltd": {
        "benefit_percent": (PERCENT, "Benefit (% of pay)"),
        "monthly_maximum": (MONEY, "Monthly maximum"),
        "elimination_days": (COUNT, "Elimination period (days)"),
        "benefit_duration": (TEXT, "Benefit duration"),
    },
    "accident": {
        "accidental_death": (MONEY, "Accidental death"),
        "hospital_admission": (MONEY, "Hospital admission"),
        "emergency_room": (MONEY, "Emergency room"),
    },
    "critical_illness": {
        "benefit_amount": (MONEY, "Lump-sum benefit"),
        "recurrence_percent": (PERCENT, "Recurrence benefit"),
        "wellness_benefit": (MONEY, "Wellness benefit"),
    },
    "hospital_indemnity": {
        "admission_benefit": (MONEY, "Admission benefit"),
        "daily_benefit": (MONEY, "Daily benefit"),
        "max_days": (COUNT, "Maximum days per year"),
    },
}


def _number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _check(kind: str, label: str, value) -> str | None:
    if kind == TEXT:
        return None if isinstance(value, str) and len(value) <= 200 else f"{label}: enter text (at most 200 characters)."
    if kind == FLAG:
        return None if isinstance(value, bool) else f"{label}: enter true or false."
    number = _number(value)
    if number is None:
        return f"{label}: enter a number."
    if number < 0:
        return f"{label}: can't be negative."
    if kind == PERCENT and number > 100:
        return f"{label}: a percentage is at most 100."
    if kind == COUNT and number != number.to_integral_value():
        return f"{label}: enter a whole number."
    return None


def validate_benefit_summary(line: str, summary) -> list[str]:
    """Every problem with ``summary`` for a plan of ``line``, as sentences; empty when valid."""
    if summary in (None, ""):
        return []
    if not isinstance(summary, dict):
        return ["The benefit summary must be an object of named values."]
    schema = SCHEMA.get(line, {})
    errors = []
    for key, value in summary.items():
        if key not in schema:
            errors.append(f"{key!r} does not apply to {line.replace('_', ' ')} plans.")
            continue
        if value is None:
            continue
        kind, label = schema[key]
        if kind == COPAYS:
            if not isinstance(value, dict):
                errors.append("Copays: an object of named amounts.")
                continue
            for name, amount in value.items():
                if name not in COPAY_LABELS:
                    errors.append(f"Copays: unknown copay {name!r}.")
                elif amount is not None and (problem := _check(MONEY, f"Copay {COPAY_LABELS[name]}", amount)):
                    errors.append(problem)
        elif problem := _check(kind, label, value):
            errors.append(problem)
    return errors


def _display(kind: str, value) -> str:
    if kind == FLAG:
        return "Yes" if value else "No"
    if kind == TEXT:
        return value
    number = _number(value)
    if kind == MONEY:
        return display.money(number, cents=False)
    if kind == PERCENT:
        return f"{number.normalize():f}%"
    return f"{number.normalize():f}"


def benefit_rows(line: str, summary) -> list[tuple[str, str]]:
    """(label, value as a person reads it) for each filled-in benefit, in the schema's order."""
    summary = summary if isinstance(summary, dict) else {}
    rows = []
    for key, (kind, label) in SCHEMA.get(line, {}).items():
        value = summary.get(key)
        if value is None or value == "":
            continue
        if kind == COPAYS:
            rows += [(f"Copay: {COPAY_LABELS[k]}", _display(MONEY, v)) for k, v in value.items() if v is not None]
        else:
            rows.append((label, _display(kind, value)))
    return rows
