"""Demo data for hrsync: benefits levels, and employees of the demo employer groups.

The first four (``LINKED``) are people the benefits platform already knows: the sandbox starts with an
account for each email (its own demo data, ``sandbox/demo_accounts.py``; a test keeps the two in step,
the app never imports the sandbox), so their first sync links instead of creating. One level has no
package mapping and one employee lacks a date of birth, so the Failed tab shows both pre-send reasons
without any call.
"""

import datetime
from decimal import Decimal

from plans.models import EmployerGroup

from .models import BenefitsLevel, Employee
from .services import benefits_level_save, employee_create, employee_sync_request

LEVELS = [("Basic", "BASIC"), ("Standard", "STANDARD"), ("Premium", "PREMIUM"), ("Family Plus", "FAMILY_PLUS"), ("Executive", "")]
# first, last, gender, email, date of birth, hire date, annual pay, pay frequency, level: the first two of
# the first group, the next two of the second.
LINKED = [
    ("Maria", "Gonzalez", "F", "maria.gonzalez@northwind.example", "1986-04-12", "2019-03-01", "72000.00", "biweekly", "Standard"),
    ("James", "Chen", "M", "james.chen@northwind.example", "1979-11-30", "2015-06-15", "98000.00", "biweekly", "Premium"),
    ("Aisha", "Khan", "F", "aisha.khan@bluepeak.example", "1992-07-08", "2021-01-11", "61000.00", "semimonthly", "Basic"),
    ("Robert", "Miller", "M", "robert.miller@bluepeak.example", "1968-02-19", "2010-09-01", "115000.00", "monthly", "Family Plus"),
]
OTHERS = [
    ("Olivia", "Brooks", "F", "Standard"),
    ("Ethan", "Park", "M", "Basic"),
    ("Sofia", "Rossi", "F", "Premium"),
    ("Liam", "O'Neill", "M", "Standard"),
    ("Chloe", "Dubois", "F", "Family Plus"),
    ("Noah", "Silva", "M", "Executive"),
    ("Grace", "Adeyemi", "F", "Basic"),
    ("Lucas", "Novak", "M", "Standard"),
]


def _groups() -> list[EmployerGroup]:
    groups = list(EmployerGroup.objects.filter(status=EmployerGroup.Status.ACTIVE).order_by("id")[:2])
    if len(groups) < 2:  # the plans demo normally made them; stand-alone, make two
        from plans.services import employer_group_create

        for name, number in [("Northwind Traders", "NW-1001"), ("Blue Peak Logistics", "BP-2002")][len(groups) :]:
            groups.append(
                EmployerGroup.objects.filter(account_number=number).first() or employer_group_create(actor=None, name=name, account_number=number)
            )
    return groups


def load(stdout) -> None:
    levels = {}
    for name, code in LEVELS:
        levels[name] = BenefitsLevel.objects.filter(name=name).first() or benefits_level_save(
            actor=None, level=BenefitsLevel(name=name, package_code=code)
        )
    if Employee.objects.exists():
        return
    groups = _groups()
    for i, (first, last, gender, email, born, hired, pay, frequency, level) in enumerate(LINKED):
        employee_create(
            actor=None,
            employer_group=groups[i // 2],
            first_name=first,
            last_name=last,
            email=email,
            gender=gender,
            date_of_birth=datetime.date.fromisoformat(born),
            hire_date=datetime.date.fromisoformat(hired),
            annual_pay=Decimal(pay),
            pay_frequency=frequency,
            benefits_level=levels[level],
        )
    for i, (first, last, gender, level) in enumerate(OTHERS):
        group = groups[i % 2]
        domain = "northwind.example" if i % 2 == 0 else "bluepeak.example"
        employee_create(
            actor=None,
            employer_group=group,
            first_name=first,
            last_name=last,
            gender=gender,
            email=f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
            date_of_birth=None if first == "Lucas" else datetime.date(1980 + i * 2, 1 + i, 10 + i),
            hire_date=datetime.date(2018 + i % 5, 1 + i, 1),
            annual_pay=Decimal(52000 + 6500 * i),
            pay_frequency=Employee.PayFrequency.BIWEEKLY,
            benefits_level=levels[level],
        )
    # Pre-send failures need no platform: show them in the Failed tab from the start.
    employee_sync_request(actor=None, employees=Employee.objects.filter(last_name__in=["Silva", "Novak"]))
    stdout.write(f"hrsync: {Employee.objects.count()} employees in {len(groups)} employer groups, {len(levels)} benefits levels")
