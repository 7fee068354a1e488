"""How an employee looks on the benefits platform: the payload, the pre-send checks, the masking.

Pure functions: no queries beyond the employee's already-loaded relations, no HTTP.
"""

from .models import Employee

# What the platform requires, in our words: a person reads these in the Failed tab.
MANDATORY = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "date_of_birth": "date of birth",
    "hire_date": "hire date",
}


def presend_problems(employee: Employee) -> list[str]:
    """Why the platform would refuse this employee before we ask it; empty when it may be sent."""
    problems = []
    missing = [label for field, label in MANDATORY.items() if not getattr(employee, field)]
    if missing:
        problems.append(f"Missing mandatory data: {', '.join(missing)}.")
    level = employee.benefits_level
    if level is None:
        problems.append("No benefits level: assign one.")
    elif not level.package_code:
        problems.append(f"The benefits level '{level.name}' has no mapping to a platform package: set its package.")
    return problems


NOT_SENT = "Not sent: "  # how a reason starts when the data must be fixed before any call


def presend_reason(problems: list[str]) -> str:
    return NOT_SENT + " ".join(problems)


def platform_account(employee: Employee) -> dict:
    """The account as the platform names its fields (the sandbox's /benefits/v1 contract)."""
    return {
        "email": employee.email,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "date_of_birth": employee.date_of_birth.isoformat() if employee.date_of_birth else None,
        "gender": employee.gender,
        "hire_date": employee.hire_date.isoformat() if employee.hire_date else None,
        "annual_salary": f"{employee.annual_pay:.2f}" if employee.annual_pay is not None else None,
        "pay_frequency": employee.pay_frequency,
        "benefits_package": employee.benefits_level.package_code if employee.benefits_level else None,
        "employer_reference": employee.employer_group.account_number,
    }


def changes_for(account: dict, wanted: dict) -> dict:
    """The fields of ``wanted`` that the platform's ``account`` holds differently."""

    def same(a, b):
        return (a or "") == (b or "") or (a not in (None, "") and b not in (None, "") and str(a) == str(b))

    return {k: v for k, v in wanted.items() if not same(account.get(k), v)}


def masked(payload: dict) -> dict:
    """The payload as the history keeps it: date of birth and pay are personal, so masked."""
    out = dict(payload)
    if out.get("date_of_birth"):
        out["date_of_birth"] = "****-**-**"
    if out.get("annual_salary"):
        out["annual_salary"] = "****"
    return out


def payload_shown(payload: dict, level_names: dict[str, str]) -> dict:
    """A sent payload as people read it: codes as their labels (gender, pay frequency, the package as its
    benefits level's name from ``level_names``, package code -> name), dates as dates; masked values stay
    masked. For the sync history."""
    from core.display import custom_field_text

    out = dict(payload or {})
    labels = {"gender": dict(Employee.Gender.choices), "pay_frequency": dict(Employee.PayFrequency.choices)}
    for key, choices in labels.items():
        if out.get(key) in choices:
            out[key] = choices[out[key]]
    package = out.get("benefits_package")
    if package:
        out["benefits_package"] = level_names.get(package) or package.replace("_", " ").title()
    for key in ("hire_date", "date_of_birth"):
        if out.get(key) and "*" not in str(out[key]):
            out[key] = custom_field_text("date", out[key])
    return out
