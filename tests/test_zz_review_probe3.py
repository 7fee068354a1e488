import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.plans.factories import PlanFactory, EmployerGroupFactory
from tests.hrsync.factories import EmployeeFactory
from tests.accounts.factories import UserFactory
from accounts.models import Agent
from accounts.services import audit
from hrsync.services import employee_sync_request
from integrations.registry import external_id_link

pytestmark = pytest.mark.django_db

URLS = ["/api/plans/", "/api/employer-groups/", "/api/carriers/", "/api/employees/", "/api/sync-attempts/", "/api/benefits-levels/",
        "/api/users/", "/api/agents/", "/api/audit-log/", "/api/security-groups/", "/api/me/",
        "/admin/plans/plan/", "/admin/plans/employergroup/", "/admin/plans/carrier/", "/admin/hrsync/employee/",
        "/admin/hrsync/syncattempt/", "/admin/hrsync/benefitslevel/", "/admin/accounts/auditlog/", "/admin/accounts/user/",
        "/admin/accounts/agent/", "/admin/accounts/securitygroup/", "/admin/", "/admin/hrsync/employee/?sync_state=failed"]

def make(n):
    for i in range(n):
        p = PlanFactory()
        e = EmployeeFactory(employer_group=p.group)
        u = UserFactory(security_group=e.benefits_level and __import__("tests.accounts.factories", fromlist=["x"]).SecurityGroupFactory())
        Agent.objects.create(first_name="a", last_name=str(i), user=u)
        audit(actor=u, action="other", obj=p)
        external_id_link(obj=p.group, system="ams", object_type="account", external_id=f"A{i}-{p.pk}")
    from hrsync.models import Employee
    from hrsync.models import BenefitsLevel
    BenefitsLevel.objects.filter(package_code="STANDARD").update(package_code="")
    employee_sync_request(actor=None, employees=Employee.objects.all())

def counts(client, api):
    out = {}
    for url in URLS:
        c = api if url.startswith("/api") else client
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url)
        assert r.status_code == 200, (url, r.status_code)
        out[url] = len(ctx)
    return out

def test_counts(client, agency_admin, api):
    client.force_login(agency_admin)
    make(1)
    a = counts(client, api)
    make(8)
    b = counts(client, api)
    for url in URLS:
        print(f"{url:45} {a[url]:3} {b[url]:3} {'N+1!' if b[url] > a[url] else ''}")
    assert 0
