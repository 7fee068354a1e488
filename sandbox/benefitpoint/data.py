"""Reference data (product types, carriers) and the demo brokerage: ~50 group accounts with 2-12 plans.

Deterministic (a fixed seed). The first accounts resemble the back office's demo employer groups
(similar names, similar plans under other names): a person links them, nothing matches by name.
"""

import random
from datetime import date

from .. import ams_demo

LINES = [
    "Accidental_Death_and_Dismemberment",
    "Additional_Product",
    "Dental",
    "Employee_Assistance_Program",
    "Life",
    "Life_and_AD&D",
    "Limited_Benefit_Products",
    "Long_Term_Disability",
    "Medical",
    "Retirement_Products",
    "Section_125",
    "Short_Term_Disability",
    "Stop_Loss",
    "Vision",
    "Voluntary_AD&D",
    "Voluntary_Life",
    "Work_Life",
]
# productTypeID -> (shortDescription, longDescription, lineOfCoverage)
PRODUCT_TYPES = {
    101: ("MED", "Medical", "Medical"),
    102: ("DEN", "Dental", "Dental"),
    103: ("VIS", "Vision", "Vision"),
    104: ("LIFE", "Basic Life", "Life"),
    105: ("ADD", "Basic AD&D", "Accidental_Death_and_Dismemberment"),
    106: ("LIFEADD", "Basic Life and AD&D", "Life_and_AD&D"),
    107: ("STD", "Short Term Disability", "Short_Term_Disability"),
    108: ("LTD", "Long Term Disability", "Long_Term_Disability"),
    109: ("VLIFE", "Voluntary Life", "Voluntary_Life"),
    110: ("VADD", "Voluntary AD&D", "Voluntary_AD&D"),
    111: ("ACC", "Accident (limited benefit)", "Limited_Benefit_Products"),
    112: ("CI", "Critical Illness (limited benefit)", "Limited_Benefit_Products"),
    113: ("HI", "Hospital Indemnity (limited benefit)", "Limited_Benefit_Products"),
    114: ("EAP", "Employee Assistance Program", "Employee_Assistance_Program"),
    115: ("S125", "Section 125 / POP", "Section_125"),
    116: ("STOP", "Stop Loss", "Stop_Loss"),
    117: ("RET", "401(k)", "Retirement_Products"),
    118: ("ADDL", "Additional Product", "Additional_Product"),
    119: ("WL", "Work/Life", "Work_Life"),
}
FUNDING_TYPES = ["Fully_Insured", "Self_Funded"]


def rate_types(product_type_id: int) -> list[dict]:
    return [{"rateTypeID": product_type_id * 10 + i, "description": f.replace("_", " "), "fundingType": f} for i, f in enumerate(FUNDING_TYPES, 1)]


CARRIERS = {  # carrierID -> (carrierName, carrierAlias)
    2001: ("UnitedHealthcare", "UHC"),
    2002: ("Aetna", "Aetna"),
    2003: ("Cigna", "Cigna"),
    2004: ("Anthem Blue Cross", "Anthem"),
    2005: ("Blue Cross Blue Shield", "BCBS"),
    2006: ("Kaiser Permanente", "Kaiser"),
    2007: ("Humana", "Humana"),
    2010: ("Delta Dental", "Delta"),
    2011: ("Guardian Life", "Guardian"),
    2012: ("MetLife", "MetLife"),
    2013: ("Ameritas", "Ameritas"),
    2020: ("VSP", "VSP"),
    2021: ("EyeMed", "EyeMed"),
    2030: ("Lincoln Financial Group", "Lincoln"),
    2031: ("Principal", "Principal"),
    2032: ("Sun Life", "Sun Life"),
    2033: ("Unum", "Unum"),
    2034: ("The Hartford", "Hartford"),
    2040: ("Aflac", "Aflac"),
    2041: ("Mutual of Omaha", "MoO"),
    2099: ("Lone Star Regional Health Plan", "LSRHP"),
}
STATUSES = ["Pending", "Current", "Cancelled", "Expired"]
ORIGINATION = ["New", "Replacement", "Renewal", "Prospective"]
CANCELLATION_REASONS = ["Duplicate_Plan", "Plan_Added_in_Error", "Replaced", "Non_Payment", "Client_Request", "Other"]
BILLING_TYPES = ["Direct_Bill", "Agency_Bill"]
TIERS = ["Employee Only", "Employee + Spouse", "Employee + Child(ren)", "Family"]
BANDS = ["Age 18-29", "Age 30-39", "Age 40-49", "Age 50-59", "Age 60+"]

# Names like the back office's demo groups EG-1001.. (same companies, written differently).
LIKE_DEMO = [
    "Summit Tech Solutions, Inc.",
    "Pioneer Dental Group PLLC",
    "Cedar Tech Solutions LLC",
    "Blue Ridge Dental Grp",
    "Lakeside Tech Solutions",
    "Granite Dental Group, P.A.",
    "Redwood Tech Solutions Inc",
    "Maple Dental Group",
    "Northstar Tech Solutions",
    "Riverbend Dental Group LLC",
]
_PREFIXES = [
    "Aurora",
    "Bayview",
    "Copperline",
    "Driftwood",
    "Elmhurst",
    "Foxglove",
    "Goldcrest",
    "Hillside",
    "Juniper",
    "Kingsley",
    "Larkspur",
    "Meadowbrook",
    "Oakmont",
    "Pinecrest",
    "Quarry",
    "Rosewood",
    "Silverleaf",
    "Timberline",
]
_KINDS = [
    "Plumbing",
    "Dental Partners",
    "Freight",
    "Pediatrics",
    "Marketing",
    "Engineering",
    "Credit Union",
    "Cafe Group",
    "Landscaping",
    "Chiropractic",
    "Software",
    "Insurance Services",
    "Hotel Group",
    "Academy",
]
OFFICES = {1: "Austin", 2: "Denver", 3: "Columbus", 4: "Raleigh"}

# (productTypeID, carrier ids, name pattern, benefit summary, tiered?, base rate)
_PLANS = [
    (
        101,
        [2001, 2002, 2003, 2004, 2005, 2007],
        "{alias} Choice Plus PPO {d}",
        lambda r, d: {
            "network": "Choice Plus",
            "deductible_individual": d,
            "deductible_family": d * 2,
            "coinsurance": 20,
            "oop_max_individual": 6500,
            "hsa_eligible": False,
        },
        True,
        540,
    ),
    (101, [2001, 2002, 2006], "{alias} HMO {d}", lambda r, d: {"network": "Select", "deductible_individual": d, "coinsurance": 10}, True, 480),
    (
        102,
        [2010, 2011, 2012, 2013],
        "{alias} Dental PPO",
        lambda r, d: {
            "deductible_individual": 50,
            "annual_maximum": r.choice([1000, 1500, 2000]),
            "coinsurance_preventive": 100,
            "coinsurance_basic": 80,
            "coinsurance_major": 50,
        },
        True,
        40,
    ),
    (
        103,
        [2020, 2021],
        "{alias} Vision 12/12/24",
        lambda r, d: {"exam_copay": 10, "materials_copay": 25, "frame_allowance": r.choice([130, 150])},
        True,
        8,
    ),
    (104, [2012, 2030, 2031, 2032], "{alias} Basic Life {amt}", lambda r, d: {"benefit_amount": 25000 * r.choice([1, 2])}, False, 4),
    (107, [2033, 2034, 2030], "{alias} STD 60%", lambda r, d: {"benefit_percent": 60, "weekly_maximum": 1000, "elimination_days": 7}, False, 9),
    (108, [2033, 2034], "{alias} LTD 60%", lambda r, d: {"benefit_percent": 60, "monthly_maximum": 6000, "elimination_days": 90}, False, 11),
    (111, [2040, 2041], "{alias} Accident Plan", lambda r, d: {"accidental_death": 50000, "hospital_admission": 1000}, True, 12),
    (114, [2012], "{alias} EAP", lambda r, d: {}, True, 2),
    (101, [2099], "{alias} Regional PPO", lambda r, d: {"deductible_individual": d}, True, 500),
]


def _rate(r: random.Random, tiered: bool, base: int) -> list[dict]:
    base = base * r.uniform(0.85, 1.2)
    if tiered:
        return [{"description": t, "monthlyPremium": f"{base * f:.2f}"} for t, f in zip(TIERS, [1, 2.1, 1.8, 2.9], strict=True)]
    return [{"description": b, "monthlyPremium": f"{base * (1 + i * 0.6):.2f}"} for i, b in enumerate(BANDS)]


def demo_brokerage() -> dict[str, list[dict]]:
    """Accounts, contacts, products (with renewal chains) and rates; ids are assigned by the caller's order."""
    r = random.Random(12)
    accounts, contacts, products = [], [], []
    for n in range(50):
        account_id = 40001 + n
        name = LIKE_DEMO[n] if n < len(LIKE_DEMO) else f"{_PREFIXES[n % len(_PREFIXES)]} {_KINDS[(n * 5) % len(_KINDS)]}"
        office = 1 + n % 4
        accounts.append(
            {
                "accountID": account_id,
                "active": n % 23 != 22,
                "accountClassification": "Group",
                "accountType": "Prospect" if n % 11 == 10 else "Client",
                "officeID": office,
                "departmentID": 1,
                "mainAddress": {
                    "street1": f"{200 + n} Commerce Way",
                    "city": OFFICES[office],
                    "state": ["TX", "CO", "OH", "NC"][office - 1],
                    "zip": f"{73000 + n * 41:05d}",
                    "country": "US",
                },
                "groupAccountInfo": {
                    "accountName": name,
                    "numberOfFTEs": r.randint(5, 400),
                    "businessType": "Corporation",
                    "SICCode": r.choice(["8021", "1761", "4213", "7371", "8011"]),
                    "commonGroupAccountInfo": {
                        "taxpayerID": f"{70 + n % 20}-{5000000 + n * 7919:07d}",
                        "website": f"https://www.example.com/{account_id}",
                    },
                },
                # The real service answers "no information is returned" for accounts lacking these.
                "_service_info_complete": n not in (47, 48),
            }
        )
        if account_id in ams_demo.BENEFITS_ADMIN_ACCOUNTS:  # the same customer in the AMS: its ids, never its name
            group = ams_demo.BENEFITS_ADMIN_ACCOUNTS[account_id]
            accounts[-1]["groupAccountInfo"]["accountIntegrationInfo"] = {
                "amsCustomerId": ams_demo.group_customer_id(group),
                "amsCustomerNumber": str(ams_demo.group_customer_number(group)),
            }
        for c in range(1 + n % 2):
            first, last = r.choice(["Dana", "Luis", "Priya", "Tom", "Ana", "Kofi"]), r.choice(["Reyes", "Ng", "Patel", "Olsen", "Mensah"])
            contacts.append(
                {
                    "accountID": account_id,
                    "title": "HR Director" if c == 0 else "Controller",
                    "primary": c == 0,
                    "responsibilities": ["Benefits_Decision_Maker", "Open_Enrollment"] if c == 0 else ["Billing"],
                    "contact": {
                        "firstName": first,
                        "lastName": last,
                        "email": f"{first.lower()}.{last.lower()}@acct{account_id}.example",
                        "phones": [{"type": "Work", "number": f"512-555-{1000 + n * 3 + c:04d}"}],
                    },
                }
            )
        month = r.choice([1, 1, 4, 7, 10])
        effective = date(2026, month, 1)
        count = r.randint(2, 12)
        picks = [0, 2] + [r.randrange(1, len(_PLANS) - 1) for _ in range(count - 2)]
        if n == 12:
            picks[-1] = len(_PLANS) - 1  # a carrier AgencyDesk has no counterpart for
        for i, pick in enumerate(picks):
            type_id, carriers, pattern, benefits, tiered, base = _PLANS[pick]
            carrier = r.choice(carriers)
            deductible = r.choice([1000, 1500, 2500, 3500])
            product = {
                "accountID": account_id,
                "productTypeID": type_id,
                "productStatus": "Current",
                "name": pattern.format(alias=CARRIERS[carrier][1], d=deductible, amt="25K"),
                "carrierID": carrier,
                "policyNumber": f"P{account_id}-{i + 1:02d}",
                "policyOriginationReason": "New",
                "effectiveAsOf": effective.isoformat(),
                "renewalOn": effective.replace(year=2027).isoformat(),
                "billingType": r.choice(BILLING_TYPES),
                "premiumPaymentFrequency": "Monthly",
                "numberOfEligibleEmployees": r.randint(5, 300),
                "planInfo": {"erisaPlan": True, "notes": ""},
                "_benefits": benefits(r, deductible),
                "_rates": _rate(r, tiered, base),
                "_tiered": tiered,
            }
            if i == 0 and n % 3 == 0:  # the medical plan renews last year's: a chain via parentProductID
                prior = {
                    **product,
                    "productStatus": "Expired",
                    "effectiveAsOf": effective.replace(year=2025).isoformat(),
                    "renewalOn": effective.isoformat(),
                    "policyNumber": product["policyNumber"] + "-25",
                    "_rates": _rate(r, tiered, base * 0.93),
                }
                products.append(prior)
                product = {**product, "policyOriginationReason": "Renewal", "_parent": len(products) - 1}
            products.append(product)
        if n == 3:  # two plans with the same name (different policies): they stay separate
            products.append({**products[-1], "policyNumber": f"P{account_id}-99", "_rates": _rate(r, products[-1]["_tiered"], 30)})
    return {"accounts": accounts, "contacts": contacts, "products": products}


def bench_accounts(count: int, plans_per_account: int, start: int = 0) -> list[dict]:
    """Accounts for the benchmark: every plan of a line and carrier AgencyDesk maps (no EAP, no regional carrier)."""
    r = random.Random(99 + start)
    mappable = [p for p in _PLANS if p[0] != 114 and 2099 not in p[1]]
    out = []
    for n in range(count):
        products = []
        for i in range(plans_per_account):
            type_id, carriers, pattern, benefits, tiered, base = mappable[i % len(mappable)]
            carrier = r.choice(carriers)
            deductible = r.choice([1000, 1500, 2500])
            products.append(
                {
                    "productTypeID": type_id,
                    "productStatus": "Current",
                    "carrierID": carrier,
                    "name": pattern.format(alias=CARRIERS[carrier][1], d=deductible, amt="25K"),
                    "policyNumber": f"B{start + n:05d}-{i:02d}",
                    "policyOriginationReason": "New",
                    "effectiveAsOf": "2026-01-01",
                    "renewalOn": "2027-01-01",
                    "billingType": "Agency_Bill",
                    "premiumPaymentFrequency": "Monthly",
                    "_benefits": benefits(r, deductible),
                    "_rates": _rate(r, tiered, base),
                }
            )
        out.append({"name": f"Bench Employer {start + n:05d}", "products": products})
    return out
