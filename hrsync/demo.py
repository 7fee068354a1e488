"""Demo data for hrsync: benefits levels, and employees of the demo employer groups.

Some employees share an email with an account the sandbox starts with (sandbox/demo_accounts.py):
their first sync links instead of creating. One level has no package mapping and one employee
lacks a date of birth, so the Failed tab shows both pre-send reasons without any call.
"""
import datetime
from decimal import Decimal

from plans.models import EmployerGroup
from sandbox.demo_accounts import DEMO_ACCOUNTS

from .models import BenefitsLevel, Employee
from .services import benefits_level_save, employee_create, employee_sync_request

LEVELS = [("Basic", "BASIC"), ("Standard", "STANDARD"), ("Premium", "PREMIUM"), ("Family Plus", "FAMILY_PLUS"),
          ("Executive", "")]
OTHERS = [("Olivia", "Brooks", "F", "Standard"), ("Ethan", "Park", "M", "Basic"), ("Sofia", "Rossi", "F", "Premium"),
          ("Liam", "O'Neill", "M", "Standard"), ("Chloe", "Dubois", "F", "Family Plus"), ("Noah", "Silva", "M", "Executive"),
          ("Grace", "Adeyemi", "F", "Basic"), ("Lucas", "Novak", "M", "Standard")]


def _groups() -> list[EmployerGroup]:
    groups = list(EmployerGroup.objects.filter(status=EmployerGroup.Status.ACTIVE).order_by("id")[:2])
    if len(groups) < 2:  # the plans demo normally made them; stand-alone, make two
        from plans.services import employer_group_create

        for name, number in [("Northwind Traders", "NW-1001"), ("Blue Peak Logistics", "BP-2002")][len(groups):]:
            groups.append(EmployerGroup.objects.filter(account_number=number).first()
                          or employer_group_create(actor=None, name=name, account_number=number))
    return groups


def load(stdout) -> None:
    levels = {}
    for name, code in LEVELS:
        levels[name] = BenefitsLevel.objects.filter(name=name).first() or benefits_level_save(
            actor=None, level=BenefitsLevel(name=name, package_code=code))
    if Employee.objects.exists():
        return
    groups = _groups()
    for i, account in enumerate(DEMO_ACCOUNTS[:4]):  # these link to the sandbox's accounts on first sync
        employee_create(actor=None, employer_group=groups[i // 2], first_name=account["first_name"], last_name=account["last_name"],
                        email=account["email"], gender=account["gender"],
                        date_of_birth=datetime.date.fromisoformat(account["date_of_birth"]),
                        hire_date=datetime.date.fromisoformat(account["hire_date"]), annual_pay=Decimal(account["annual_salary"]),
                        pay_frequency=account["pay_frequency"],
                        benefits_level=next(lv for lv in levels.values() if lv.package_code == account["benefits_package"]))
    for i, (first, last, gender, level) in enumerate(OTHERS):
        group = groups[i % 2]
        domain = "northwind.example" if i % 2 == 0 else "bluepeak.example"
        employee_create(actor=None, employer_group=group, first_name=first, last_name=last, gender=gender,
                        email=f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
                        date_of_birth=None if first == "Lucas" else datetime.date(1980 + i * 2, 1 + i, 10 + i),
                        hire_date=datetime.date(2018 + i % 5, 1 + i, 1), annual_pay=Decimal(52000 + 6500 * i),
                        pay_frequency=Employee.PayFrequency.BIWEEKLY, benefits_level=levels[level])
    # Pre-send failures need no platform: show them in the Failed tab from the start.
    employee_sync_request(actor=None, employees=Employee.objects.filter(last_name__in=["Silva", "Novak"]))
    stdout.write(f"hrsync: {Employee.objects.count()} employees in {len(groups)} employer groups, {len(levels)} benefits levels")
