"""Demo data for plans: 50 employer groups, each with plans across lines and carriers (idempotent).

Deterministic (a fixed seed), so account numbers EG-1001..EG-1050 and their plans are the same on
every machine: the sandbox's demo data can match them.
"""

import datetime
import random
from decimal import Decimal

from django.db import transaction

from .models import Carrier, EmployerGroup, Plan
from .services.plans import TIERS, employer_group_create, plan_create

GROUPS = 50
_PREFIXES = [
    "Harbor",
    "Summit",
    "Pioneer",
    "Cedar",
    "Blue Ridge",
    "Lakeside",
    "Granite",
    "Redwood",
    "Maple",
    "Northstar",
    "Riverbend",
    "Ironwood",
    "Sunrise",
    "Prairie",
    "Coastal",
    "Evergreen",
    "Keystone",
]
_KINDS = [
    "Dental Group",
    "Roofing",
    "Logistics",
    "Family Medicine",
    "Auto Repair",
    "Architects",
    "Bakery Co",
    "Tech Solutions",
    "Law Offices",
    "Veterinary Clinic",
    "Construction",
    "Realty",
    "Printing",
    "Brewing Co",
]
_OFFICES = ["Austin", "Denver", "Columbus", "Raleigh"]
# line -> (carrier codes, plan types, benefit summary, rate basis, base employee rate)
_LINES = {
    "medical": (
        ["uhc", "aetna", "cigna", "anthem", "bcbs", "kaiser", "humana"],
        ["ppo", "hmo", "hdhp", "epo"],
        lambda r: {
            "network": "Choice Plus",
            "deductible_individual": r.choice([1000, 1500, 2500, 3200]),
            "deductible_family": 5000,
            "oop_max_individual": 6500,
            "oop_max_family": 13000,
            "coinsurance": r.choice([10, 20, 30]),
            "hsa_eligible": False,
            "copays": {"primary_care": 25, "specialist": 50, "urgent_care": 75, "emergency_room": 350, "generic_rx": 10, "brand_rx": 45},
        },
        "tiered",
        520,
    ),
    "dental": (
        ["delta-dental", "guardian", "metlife", "ameritas"],
        ["ppo", "dhmo"],
        lambda r: {
            "deductible_individual": 50,
            "annual_maximum": r.choice([1000, 1500, 2000]),
            "coinsurance_preventive": 100,
            "coinsurance_basic": 80,
            "coinsurance_major": 50,
            "orthodontia_lifetime_max": 1500,
        },
        "tiered",
        38,
    ),
    "vision": (
        ["vsp", "eyemed"],
        ["other"],
        lambda r: {
            "exam_copay": 10,
            "materials_copay": 25,
            "frame_allowance": r.choice([130, 150, 200]),
            "contact_lens_allowance": 130,
            "exam_frequency_months": 12,
        },
        "tiered",
        8,
    ),
    "life": (
        ["metlife", "lincoln", "principal", "sun-life"],
        ["term"],
        lambda r: {"benefit_amount": r.choice([25000, 50000]), "guarantee_issue": 50000, "age_reduction": "35% at 65, 50% at 70"},
        "age_banded",
        4,
    ),
    "std": (
        ["unum", "hartford", "lincoln"],
        ["other"],
        lambda r: {"benefit_percent": 60, "weekly_maximum": 1000, "elimination_days": 7, "benefit_weeks": 12},
        "age_banded",
        9,
    ),
    "accident": (
        ["aflac", "mutual-of-omaha"],
        ["voluntary"],
        lambda r: {"accidental_death": 50000, "hospital_admission": 1000, "emergency_room": 150},
        "tiered",
        12,
    ),
}
_BANDS = [(18, 29), (30, 39), (40, 49), (50, 59), (60, None)]


def _rates(r: random.Random, basis: str, base: int) -> list[dict]:
    base = Decimal(base) * Decimal(r.uniform(0.85, 1.2)).quantize(Decimal("0.01"))
    if basis == "tiered":
        factors = {"employee": 1, "employee_spouse": 2.1, "employee_children": 1.8, "family": 2.9}
        return [{"tier": t, "monthly_rate": (base * Decimal(factors[t])).quantize(Decimal("0.01"))} for t in TIERS]
    return [
        {"age_min": lo, "age_max": hi, "monthly_rate": (base * Decimal(1 + i * 0.6)).quantize(Decimal("0.01"))} for i, (lo, hi) in enumerate(_BANDS)
    ]


def _plan_name(carrier: str, line: str, plan_type: str) -> str:
    """Names like "Humana Medical HMO", "Delta Dental DHMO", "Unum Short-term disability"."""
    line_label = Plan.Line(line).label
    kind = "" if plan_type in ("other", "term", "voluntary") else {"dhmo": "DHMO"}.get(plan_type, Plan.PlanType(plan_type).label)
    return " ".join(filter(None, [carrier, "" if line_label in carrier else line_label, kind]))


def group_name(n: int) -> str:
    """The demo group EG-<1000 + n>'s name, each one different: the prefixes repeat every 17 groups and the
    kinds every 2, so from the 35th group on the kind moves one further (the names before it, which the
    sandbox's AMS mirrors, stay as they were)."""
    return f"{_PREFIXES[n % len(_PREFIXES)]} {_KINDS[(n * 7 + (n - 1) // (2 * len(_PREFIXES))) % len(_KINDS)]}"


@transaction.atomic
def load(stdout) -> None:
    r = random.Random(5)
    carriers = {c.code: c for c in Carrier.objects.filter(active=True)}
    created = 0
    for n in range(1, GROUPS + 1):
        number = f"EG-{1000 + n}"
        name = group_name(n)
        month = r.choice([1, 1, 1, 4, 7, 7, 10, 12])
        lines = ["medical", *r.sample(["dental", "vision", "life", "std", "accident"], r.randint(1, 4))]
        picks = [(line, r.choice(_LINES[line][0]), r.choice(_LINES[line][1])) for line in lines]
        rates = {line: _rates(r, _LINES[line][3], _LINES[line][4]) for line in lines}
        summaries = {line: _LINES[line][2](r) for line in lines}
        size = r.randint(8, 450)
        if EmployerGroup.objects.filter(account_number=number).exists():
            continue  # the random draws above keep every later group the same
        group = employer_group_create(
            actor=None,
            name=name,
            account_number=number,
            office=_OFFICES[n % len(_OFFICES)],
            employee_count=size,
            renewal_month=month,
            status=EmployerGroup.Status.ACTIVE,
            contacts=[{"name": f"HR Manager {n}", "title": "HR Manager", "email": f"hr@eg{1000 + n}.example", "is_primary": True}],
            addresses=[
                {
                    "kind": "mailing",
                    "line1": f"{100 + n} Main Street",
                    "city": _OFFICES[n % len(_OFFICES)],
                    "state": ["TX", "CO", "OH", "NC"][n % 4],
                    "zip_code": f"{70000 + n * 37:05d}",
                }
            ],
        )
        start = datetime.date(2026, month, 1)
        for line, code, plan_type in picks:
            if code not in carriers:
                continue
            plan_create(
                actor=None,
                rates=rates[line],
                group=group,
                carrier=carriers[code],
                line_of_coverage=line,
                name=_plan_name(carriers[code].name, line, plan_type),
                plan_type=plan_type,
                policy_number=f"{code[:3].upper()}-{1000 + n}-{line[:3].upper()}",
                effective_date=start,
                renewal_date=datetime.date(start.year + 1, month, 1),
                benefit_summary=summaries[line],
                rate_basis=_LINES[line][3],
                contribution_basis="percent",
                employer_contribution_employee=Decimal(r.choice([50, 75, 100])),
                employer_contribution_dependents=Decimal(r.choice([0, 25, 50])),
            )
        created += 1
    stdout.write(f"plans: {created} employer groups created ({GROUPS} in the demo)")
