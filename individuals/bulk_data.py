"""Set-based generation of individuals and policies, for the demo (bulk_create) and benchmarks
(``INSERT ... SELECT generate_series`` on PostgreSQL).

Personal data is real ciphertext: a pool of values is encrypted in Python once and spread over
the rows (the same values repeat; fine for demo and benchmark data).
"""

import datetime
import random

from django.db import transaction

from accounts.models import Agent
from plans.models import Carrier

from . import personal_data
from .models import CustomField, Individual, Policy, USState

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Maria",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Luis",
    "Mei",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Nguyen",
]
CITIES = [
    ("Austin", "Travis", "TX", "787"),
    ("Houston", "Harris", "TX", "770"),
    ("Tampa", "Hillsborough", "FL", "336"),
    ("Orlando", "Orange", "FL", "328"),
    ("Phoenix", "Maricopa", "AZ", "850"),
    ("Columbus", "Franklin", "OH", "432"),
    ("Charlotte", "Mecklenburg", "NC", "282"),
    ("Atlanta", "Fulton", "GA", "303"),
    ("Denver", "Denver", "CO", "802"),
    ("Albany", "Albany", "NY", "122"),
]
LEAD_SOURCES = ["Referral", "Seminar", "Website", "Mailer", "Call-in", "Event"]
CARRIERS = [
    ("Humana", "humana"),
    ("Aetna", "aetna"),
    ("UnitedHealthcare", "uhc"),
    ("Cigna", "cigna"),
    ("Blue Cross Blue Shield", "bcbs"),
    ("Mutual of Omaha", "mutual-of-omaha"),
    ("Delta Dental", "delta-dental"),
]
CUSTOM_FIELDS = [
    ("Client tier", "client_tier", CustomField.FieldType.DROPDOWN, ["Gold", "Silver", "Bronze"]),
    ("Preferred contact", "preferred_contact", CustomField.FieldType.CHECKBOX_LIST, ["Phone", "Email", "Mail", "Text"]),
    ("Annual review date", "annual_review", CustomField.FieldType.DATE, []),
    ("Household income", "household_income", CustomField.FieldType.CURRENCY, []),
    ("Newsletter", "newsletter", CustomField.FieldType.CHECKBOX, []),
    ("Spouse name", "spouse_name", CustomField.FieldType.TEXT, []),
]
# Weighted so that searches have a realistic spread.
COVERAGE = ["medicare_advantage"] * 4 + ["medicare_supplement"] * 3 + ["part_d"] * 3 + ["dental"] * 2 + ["vision", "life", "aca", "health", "annuity"]
STATUS = ["active"] * 6 + ["terminated"] * 2 + ["pending", "cancelled"]
POOL = 997  # prime, so pool values don't line up with other modulo-based columns

_SSN_POOL = None


def personal_data_pool(size: int = POOL) -> list[dict]:
    """``size`` valid SSN / MBI / driver's license triples, protected (ciphertext, hash, last 4)."""
    rng = random.Random(7)
    letters = "ACDEFGHJKMNPQRTUVWXY"
    pool = []
    for _ in range(size):
        ssn = f"{rng.randint(100, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        mbi = (
            f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 9)}{rng.choice(letters)}"
            f"{rng.choice(letters)}{rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}{rng.randint(10, 99)}"
        )
        dl = f"D{rng.randint(1000000, 9999999)}"
        pool.append({k: personal_data.protect(k, v) for k, v in (("ssn", ssn), ("medicare_beneficiary_id", mbi), ("drivers_license", dl))})
    return pool


def ensure_reference_data() -> tuple[list[Carrier], list[Agent]]:
    """Carriers and custom field definitions the generated rows refer to (created once, audited)."""
    from accounts.services import record_save

    from .services import custom_field_create

    # The carriers plans seeds (a data migration); a few of our own only where there are none.
    carriers = list(Carrier.objects.filter(active=True).order_by("id")[:12])
    if not carriers:
        carriers = [record_save(actor=None, instance=Carrier(name=name, code=code)) for name, code in CARRIERS]
    for order, (name, key, field_type, options) in enumerate(CUSTOM_FIELDS):
        if not CustomField.objects.filter(key=key).exists():
            custom_field_create(actor=None, name=name, key=key, field_type=field_type, options=options, order=order)
    return carriers, list(Agent.objects.all())


def _custom_values(rng: random.Random) -> dict:
    values = {}
    if rng.random() < 0.7:
        values["client_tier"] = rng.choice(["Gold", "Silver", "Bronze"])
    if rng.random() < 0.5:
        values["preferred_contact"] = sorted(
            rng.sample(["Phone", "Email", "Mail", "Text"], rng.randint(1, 2)), key=["Phone", "Email", "Mail", "Text"].index
        )
    if rng.random() < 0.4:
        values["annual_review"] = (datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))).isoformat()
    if rng.random() < 0.3:
        values["household_income"] = float(rng.randint(20, 200) * 1000)
    if rng.random() < 0.5:
        values["newsletter"] = rng.random() < 0.6
    return values


def bulk_generate(count: int, *, seed: int = 1, batch: int = 2000, stdout=None) -> int:
    """Create ``count`` individuals with 0-3 policies each through ``bulk_create`` (portable path)."""
    rng = random.Random(seed)
    carriers, agents = ensure_reference_data()
    pool = personal_data_pool(min(POOL, max(count, 1)))
    states = [s for s, _ in USState.choices]
    created = 0
    while created < count:
        n = min(batch, count - created)
        people = []
        for _ in range(n):
            city, county, state, zip3 = rng.choice(CITIES) if rng.random() < 0.8 else ("Springfield", "", rng.choice(states), "6")
            first, last = rng.choice(FIRST), rng.choice(LAST)
            dob = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randint(0, 365 * 50))
            person = Individual(
                first_name=first,
                last_name=last,
                middle_name=rng.choice(["", "A", "J", "M", "L"]),
                servicing_agent=rng.choice(agents) if agents and rng.random() < 0.8 else None,
                record_status=rng.choices(["active", "prospect", "inactive", "deceased"], [70, 20, 8, 2])[0],
                email=f"{first}.{last}{rng.randint(1, 999)}@example.com".lower(),
                cell_phone=f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                address_type="home",
                address_line1=f"{rng.randint(1, 9999)} {rng.choice(LAST)} St",
                city=city,
                county=county,
                state=state,
                zip_code=f"{zip3}{rng.randint(0, 10 ** (5 - len(zip3)) - 1):0{5 - len(zip3)}d}",
                gender=rng.choice(["female", "male"]),
                date_of_birth=dob,
                lead_source=rng.choice(LEAD_SOURCES),
                smoker_status=rng.choices(["non_smoker", "smoker", "former"], [75, 10, 15])[0],
                custom_fields=_custom_values(rng),
            )
            if dob.year < 1961:
                person.medicare_part_a_effective = dob.replace(year=dob.year + 65, day=1)
                person.medicare_part_b_effective = person.medicare_part_a_effective
            if rng.random() < 0.9:
                protected = rng.choice(pool)
                for kind, cols in protected.items():
                    if kind != "medicare_beneficiary_id" or person.medicare_part_a_effective:
                        for suffix, value in cols.items():
                            setattr(person, f"{kind}_{suffix}", value)
            people.append(person)
        with transaction.atomic():
            Individual.objects.bulk_create(people, batch_size=1000)
            policies = []
            for person in people:
                for _ in range(rng.choices([0, 1, 2, 3], [10, 45, 35, 10])[0]):
                    effective = datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randint(0, 365 * 8))
                    status = rng.choice(STATUS)
                    policies.append(
                        Policy(
                            individual_id=person.pk,
                            carrier=rng.choice(carriers),
                            coverage_type=rng.choice(COVERAGE),
                            status=status,
                            policy_number=f"P{rng.randint(10**7, 10**8 - 1)}",
                            effective_date=effective,
                            renewal_date=effective + datetime.timedelta(days=365 * max(1, 2026 - effective.year)),
                            termination_date=effective + datetime.timedelta(days=rng.randint(30, 700)) if status == "terminated" else None,
                            premium=rng.randint(0, 40000) / 100,
                        )
                    )
            Policy.objects.bulk_create(policies, batch_size=2000)
        created += n
        if stdout is not None:
            stdout.write(f"  individuals: {created}/{count}")
    return created
