"""Which agency-system customers match the back office's demo records: by id, never by name.

The sandbox's own seed data (nothing in the back office imports it): the sandbox seeds customers with these
GUIDs, and the back office's demo links its records to them in the external-id registry. The linked
customers hold what the back office's demo records hold (the same names, addresses, contacts and policies),
so a first reconciliation of the demo changes nothing: ``ams/demo.py`` keeps its own copy of this data, and a
test keeps the two in step.
"""

import uuid

NAMESPACE = uuid.UUID("6f1c2a8e-0c1b-4b5e-9a47-3d0e5b2f8a11")
DEMO_GROUPS = [f"EG-{1000 + n}" for n in range(1, 11)]  # plans/demo.py's first ten employer groups
DEMO_PEOPLE = 20  # the twenty demo individuals below (the first twenty personal customers)


def group_customer_id(account_number: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"group:{account_number}"))


def person_customer_id(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"person:{n}"))


def group_customer_number(account_number: str) -> int:
    """The seeded AMS customer number of a demo group: every fifth customer is commercial, and the first
    ten commercial ones are the demo groups (``sandbox/ams360.py`` seeds them in that order)."""
    return 5 * (DEMO_GROUPS.index(account_number) + 1)


# Benefits-admin accounts (sandbox/benefitpoint) that exist in the AMS too: accountID -> demo group.
# They carry that customer's ``amsCustomerId`` / ``amsCustomerNumber``; the others carry none.
BENEFITS_ADMIN_ACCOUNTS = {40001 + k: DEMO_GROUPS[k] for k in range(5)}


def policy_id(n: int, k: int) -> str:
    """The AMS policy id of demo person ``n``'s ``k``-th policy (1-based)."""
    return str(uuid.uuid5(NAMESPACE, f"policy:{n}:{k}"))


# plans/demo.py's first ten employer groups as the AMS holds them: name, and the mailing address's city,
# state and ZIP code; no DBA and no federal EIN (the demo groups have none); one contact, "HR Manager <n>".
GROUPS = {
    "EG-1001": ("Summit Tech Solutions", "Denver", "CO", "70037"),
    "EG-1002": ("Pioneer Dental Group", "Columbus", "OH", "70074"),
    "EG-1003": ("Cedar Tech Solutions", "Raleigh", "NC", "70111"),
    "EG-1004": ("Blue Ridge Dental Group", "Austin", "TX", "70148"),
    "EG-1005": ("Lakeside Tech Solutions", "Denver", "CO", "70185"),
    "EG-1006": ("Granite Dental Group", "Columbus", "OH", "70222"),
    "EG-1007": ("Redwood Tech Solutions", "Raleigh", "NC", "70259"),
    "EG-1008": ("Maple Dental Group", "Austin", "TX", "70296"),
    "EG-1009": ("Northstar Tech Solutions", "Denver", "CO", "70333"),
    "EG-1010": ("Riverbend Dental Group", "Columbus", "OH", "70370"),
}

# The twenty demo individuals the AMS holds (the back office's demo brings them in as these): first, middle and
# last name, home phone, address, city, state, ZIP code, and policies (number, writing company, status,
# effective date, full-term premium; the type is the number's prefix, the term one year).
PEOPLE = [
    (
        "Anthony",
        "J",
        "Anderson",
        "217-555-9396",
        "412 Elm St",
        "Springfield",
        "IL",
        "62704",
        [("MEDSUP-1510", "cigna", "Active", "2025-12-01", "2800.00"), ("PDP-1511", "cigna", "Cancelled", "2025-04-01", "2144.00")],
    ),
    (
        "Linda",
        "",
        "Anderson",
        "217-555-8015",
        "412 Elm St",
        "Springfield",
        "IL",
        "62704",
        [("MEDSUP-1520", "mutual-of-omaha", "Active", "2025-01-01", "1719.00")],
    ),
    ("Maria", "L", "Garcia", "813-555-2134", "88 Lake Shore Dr", "Tampa", "FL", "33602", []),
    (
        "James",
        "",
        "Whitaker",
        "512-555-6389",
        "1520 Oak Ave",
        "Austin",
        "TX",
        "78701",
        [("MEDSUP-1540", "mutual-of-omaha", "Pending", "2025-04-01", "373.00"), ("DENTAL-1541", "delta-dental", "Active", "2025-10-01", "339.00")],
    ),
    (
        "Mei",
        "",
        "Chen",
        "813-555-7036",
        "7 Harbor View Rd",
        "Tampa",
        "FL",
        "33606",
        [("LIFE-1550", "mutual-of-omaha", "Active", "2025-12-01", "2857.00")],
    ),
    (
        "Robert",
        "A",
        "Johnson",
        "614-555-6618",
        "230 Main St",
        "Columbus",
        "OH",
        "43215",
        [("MEDADV-1560", "humana", "Cancelled", "2025-12-01", "562.00"), ("MEDADV-1561", "humana", "Active", "2025-08-01", "2461.00")],
    ),
    (
        "Patricia",
        "",
        "Nguyen",
        "602-555-1608",
        "19 Cedar Ln",
        "Phoenix",
        "AZ",
        "85004",
        [("DENTAL-1570", "delta-dental", "Active", "2025-03-01", "2924.00")],
    ),
    ("Daniel", "M", "O'Brien", "303-555-8699", "655 Pine St", "Denver", "CO", "80203", []),
    (
        "Susan",
        "",
        "Martinez",
        "512-555-7357",
        "3101 Elm St",
        "Austin",
        "TX",
        "78702",
        [("MEDSUP-1590", "mutual-of-omaha", "Active", "2025-04-01", "2959.00"), ("HEALTH-1591", "bcbs", "Active", "2025-02-01", "2151.00")],
    ),
    (
        "Thomas",
        "",
        "Rodriguez",
        "404-555-5783",
        "44 Maple Ct",
        "Atlanta",
        "GA",
        "30303",
        [("MEDSUP-1600", "cigna", "Active", "2025-03-01", "1877.00")],
    ),
    (
        "Karen",
        "E",
        "Williams",
        "614-555-2528",
        "902 Birch Rd",
        "Columbus",
        "OH",
        "43201",
        [("PDP-1610", "cigna", "Active", "2025-09-01", "1502.00"), ("DENTAL-1611", "delta-dental", "Active", "2025-05-01", "3616.00")],
    ),
    ("Luis", "", "Hernandez", "602-555-9555", "1200 Mesa Dr", "Phoenix", "AZ", "85006", [("MEDSUP-1620", "cigna", "Active", "2025-01-01", "487.00")]),
    ("Nancy", "", "Kowalski", "303-555-4637", "58 Ridge Rd", "Denver", "CO", "80205", []),
    (
        "William",
        "R",
        "Brown",
        "404-555-6445",
        "76 Peachtree St",
        "Atlanta",
        "GA",
        "30308",
        [("LIFE-1640", "mutual-of-omaha", "Active", "2025-09-01", "661.00"), ("MEDSUP-1641", "mutual-of-omaha", "Active", "2025-11-01", "3614.00")],
    ),
    ("Ahmed", "", "Hassan", "813-555-2075", "315 Bay St", "Tampa", "FL", "33609", [("PDP-1650", "cigna", "Active", "2025-04-01", "890.00")]),
    (
        "Elizabeth",
        "",
        "Taylor",
        "512-555-7668",
        "2800 Lamar Blvd",
        "Austin",
        "TX",
        "78705",
        [("MEDSUP-1660", "cigna", "Active", "2025-06-01", "2999.00"), ("MEDADV-1661", "uhc", "Pending", "2025-09-01", "1189.00")],
    ),
    (
        "Kenji",
        "",
        "Watanabe",
        "614-555-7153",
        "14 Spruce St",
        "Columbus",
        "OH",
        "43206",
        [("MEDSUP-1670", "mutual-of-omaha", "Active", "2025-06-01", "2273.00")],
    ),
    ("Barbara", "", "Moore", "602-555-5050", "620 Camelback Rd", "Phoenix", "AZ", "85013", []),
    (
        "Richard",
        "T",
        "Jackson",
        "303-555-1854",
        "91 Colfax Ave",
        "Denver",
        "CO",
        "80206",
        [
            ("MEDSUP-1690", "mutual-of-omaha", "Active", "2025-09-01", "1999.00"),
            ("DENTAL-1691", "delta-dental", "Cancelled", "2025-01-01", "1379.00"),
        ],
    ),
    ("Olga", "", "Petrova", "404-555-3795", "5 Magnolia Way", "Atlanta", "GA", "30309", [("PDP-1700", "cigna", "Active", "2025-01-01", "1218.00")]),
]


def group_fields(account_number: str) -> dict:
    """A demo group's customer fields, as the AMS holds them."""
    n = DEMO_GROUPS.index(account_number) + 1
    name, city, state, zip_code = GROUPS[account_number]
    return {
        "FirmName": name,
        "DoingBusinessAs": None,
        "FederalTaxIdNumber": None,
        "AddressLine1": f"{100 + n} Main Street",
        "City": city,
        "State": state,
        "ZipCode": zip_code,
        "IsActive": 1,
        "CustomerType": "Customer",
    }


def group_contacts(account_number: str) -> list[dict]:
    """A demo group's contacts (without ids), as the AMS holds them."""
    n = DEMO_GROUPS.index(account_number) + 1
    return [
        {"ContactName": f"HR Manager {n}", "Title": "HR Manager", "EmailAddress": f"hr@eg{1000 + n}.example", "BusinessPhone": None, "SortOrder": 1}
    ]


def person_fields(n: int) -> dict:
    """Demo person ``n``'s (1-based) customer fields, as the AMS holds them."""
    first, middle, last, phone, street, city, state, zip_code, _ = PEOPLE[n - 1]
    return {
        "FirstName": first,
        "MiddleName": middle or None,
        "LastName": last,
        "Email": f"{first}.{last}@mail.example".lower().replace("'", ""),
        "HomePhone": phone,
        "AddressLine1": street,
        "City": city,
        "State": state,
        "ZipCode": zip_code,
        "IsActive": 1,
        "CustomerType": "Customer",
    }


def person_policies(n: int) -> list[dict]:
    """Demo person ``n``'s policies, as the AMS holds them."""
    out = []
    for k, (number, company, status, effective, premium) in enumerate(PEOPLE[n - 1][8], 1):
        out.append(
            {
                "PolicyId": policy_id(n, k),
                "PolicyNumber": number,
                "PolicyType": number.split("-")[0],
                "WritingCompanyCode": company,
                "PolicyStatus": status,
                "PolicyEffectiveDate": effective,
                "PolicyExpirationDate": f"{int(effective[:4]) + 1}{effective[4:]}",
                "FullTermPremium": premium,
            }
        )
    return out
