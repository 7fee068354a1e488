"""hrsync's demo data: it stands alone (apps never import the sandbox) and stays in step with the sandbox's."""

import io
import re
from pathlib import Path

import pytest

import hrsync
from hrsync import demo
from hrsync.models import Employee
from sandbox.demo_accounts import DEMO_ACCOUNTS


def test_the_linked_demo_employees_are_accounts_the_sandbox_starts_with():
    accounts = {a["email"]: a for a in DEMO_ACCOUNTS}
    packages = dict(demo.LEVELS)
    for i, (first, last, _gender, email, born, hired, _pay, _frequency, level) in enumerate(demo.LINKED):
        account = accounts[email]  # so their first sync links instead of creating
        assert (account["first_name"], account["last_name"], account["date_of_birth"], account["hire_date"]) == (first, last, born, hired)
        assert account["benefits_package"] == packages[level]
        # the employer the platform holds is the demo group they work for (plans/demo.py's first two)
        assert account["employer_reference"] == f"EG-{1001 + i // 2}"


def test_no_module_of_the_app_imports_the_sandbox():
    imports = re.compile(r"^\s*(from|import)\s+sandbox\b", re.MULTILINE)
    found = [str(p) for p in Path(hrsync.__file__).parent.rglob("*.py") if imports.search(p.read_text())]
    assert found == []


@pytest.mark.django_db
def test_the_demo_loads_without_the_sandbox_and_fails_two_before_sending():
    demo.load(io.StringIO())
    assert Employee.objects.count() == len(demo.LINKED) + len(demo.OTHERS)
    failed = Employee.objects.filter(sync_state=Employee.SyncState.FAILED)
    assert sorted(failed.values_list("last_name", flat=True)) == ["Novak", "Silva"]
    assert all(e.last_attempt.reason.startswith("Not sent: ") for e in failed)
