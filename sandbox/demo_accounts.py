"""Benefits accounts the sandbox starts with. The back office's demo employees (hrsync/demo.py)
use some of these emails, so their first sync links to an existing account instead of creating one.
Plain data: both sides import it, neither imports the other."""

DEMO_ACCOUNTS = [
    {
        "email": "maria.gonzalez@northwind.example",
        "first_name": "Maria",
        "last_name": "Gonzalez",
        "date_of_birth": "1986-04-12",
        "gender": "F",
        "hire_date": "2019-03-01",
        "annual_salary": "72000.00",
        "pay_frequency": "biweekly",
        "benefits_package": "STANDARD",
        "employer_reference": "EG-1001",
    },
    {
        "email": "james.chen@northwind.example",
        "first_name": "James",
        "last_name": "Chen",
        "date_of_birth": "1979-11-30",
        "gender": "M",
        "hire_date": "2015-06-15",
        "annual_salary": "98000.00",
        "pay_frequency": "biweekly",
        "benefits_package": "PREMIUM",
        "employer_reference": "EG-1001",
    },
    {
        "email": "aisha.khan@bluepeak.example",
        "first_name": "Aisha",
        "last_name": "Khan",
        "date_of_birth": "1992-07-08",
        "gender": "F",
        "hire_date": "2021-01-11",
        "annual_salary": "61000.00",
        "pay_frequency": "semimonthly",
        "benefits_package": "BASIC",
        "employer_reference": "EG-1002",
    },
    {
        "email": "robert.miller@bluepeak.example",
        "first_name": "Robert",
        "last_name": "Miller",
        "date_of_birth": "1968-02-19",
        "gender": "M",
        "hire_date": "2010-09-01",
        "annual_salary": "115000.00",
        "pay_frequency": "monthly",
        "benefits_package": "FAMILY_PLUS",
        "employer_reference": "EG-1002",
    },
    # Not an employee of the demo groups: an email staff can type to see "already used by another account".
    {
        "email": "pat.taken@elsewhere.example",
        "first_name": "Pat",
        "last_name": "Taken",
        "date_of_birth": "1990-01-01",
        "gender": "X",
        "hire_date": "2020-01-01",
        "annual_salary": "50000.00",
        "pay_frequency": "monthly",
        "benefits_package": "BASIC",
        "employer_reference": "EX-9",
    },
]

# The platform's benefits packages: a back-office benefits level maps onto one of these codes.
PACKAGES = {
    "BASIC": "Basic (employee only)",
    "STANDARD": "Standard (employee + spouse)",
    "PREMIUM": "Premium (family, low deductible)",
    "FAMILY_PLUS": "Family Plus (family, HSA)",
}
