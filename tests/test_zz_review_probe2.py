import json
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.plans.factories import PlanFactory
from tests.hrsync.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

def test_probe_admin(client, agency_admin, api):
    plan = PlanFactory()
    group = plan.group
    emp = EmployeeFactory(employer_group=group)
    client.force_login(agency_admin)
    fails = []
    def get(url):
        try:
            r = client.get(url)
        except Exception as e:
            fails.append((url, "EXC " + repr(e)[:300])); return
        if r.status_code >= 500: fails.append((url, r.status_code))
    def post(url, data):
        try:
            r = client.post(url, data)
        except Exception as e:
            fails.append((url, str(data)[:200], "EXC " + repr(e)[:300])); return
        if r.status_code >= 500: fails.append((url, str(data)[:200], r.status_code))
        return r
    for base in ["/admin/plans/plan/", "/admin/plans/employergroup/", "/admin/plans/carrier/", "/admin/hrsync/employee/",
                 "/admin/hrsync/syncattempt/", "/admin/hrsync/benefitslevel/", "/admin/accounts/auditlog/", "/admin/accounts/user/",
                 "/admin/accounts/agent/", "/admin/accounts/securitygroup/"]:
        for q in ["", "?carrier=x", "?line_of_coverage=zz", "?renewal_month=x", "?renewal_month=13", "?sync_state=zzz", "?q=%00",
                  "?o=99", "?p=x", "?effective_date__year=x", "?created_at__year=x", "?employer_group__id__exact=x", "?benefits_level__id__exact=x",
                  "?status__exact=x", "?content_type__id__exact=x"]:
            get(base + q)
        get(base + "add/")
        get(base + "999999/change/")
        get(base + "abc/change/")
    get(f"/admin/plans/plan/{plan.pk}/change/")
    get(f"/admin/plans/employergroup/{group.pk}/change/")
    get(f"/admin/hrsync/employee/{emp.pk}/change/")
    get(f"/admin/hrsync/employee/{emp.pk}/sync-history/")
    get("/admin/hrsync/employee/999999/sync-history/")
    get(f"/admin/plans/plan/{plan.pk}/renew/")
    get("/admin/plans/plan/999999/renew/")
    for v in ["x", "nan", "inf", "-inf", "1e999", "-200", "99999999999", "1e-999", "%00", "", " 5 "]:
        post(f"/admin/plans/plan/{plan.pk}/renew/", {"rate_change_percent": v})
    # actions
    for action, extra in [("sync", {}), ("sync", {"confirm": "yes"}), ("assign_benefits_level", {}),
                          ("assign_benefits_level", {"confirm": "yes", "benefits_level": "x"}),
                          ("assign_benefits_level", {"confirm": "yes", "benefits_level": "99999"})]:
        post("/admin/hrsync/employee/", {"action": action, "_selected_action": [emp.pk], **extra})
        post("/admin/hrsync/employee/", {"action": action, "_selected_action": ["x"], **extra})
        post("/admin/hrsync/employee/", {"action": action, "select_across": "1", "_selected_action": [emp.pk], **extra})
    post("/admin/plans/plan/", {"action": "renew_plans", "_selected_action": [plan.pk]})
    # employee add/change with bad data
    for data in [{}, {"employer_group": "x", "email": "bad", "date_of_birth": "x"}, {"employer_group": group.pk, "first_name": "a", "last_name": "b", "email": emp.email},
                 {"employer_group": group.pk, "first_name": "a", "last_name": "b", "email": "x@y.example", "hire_date": "2020-01-01", "leave_date": "2019-01-01"}]:
        post("/admin/hrsync/employee/add/", data)
        post(f"/admin/hrsync/employee/{emp.pk}/change/", data)
    # benefits level
    post("/admin/hrsync/benefitslevel/add/", {"name": emp.benefits_level.name})
    post(f"/admin/hrsync/benefitslevel/{emp.benefits_level.pk}/delete/", {"post": "yes"})
    post(f"/admin/accounts/securitygroup/{agency_admin.security_group_id}/delete/", {"post": "yes"})
    post(f"/admin/plans/carrier/{plan.carrier_id}/delete/", {"post": "yes"})
    # group add with inlines
    mgmt = lambda p, n: {f"{p}-TOTAL_FORMS": str(n), f"{p}-INITIAL_FORMS": "0", f"{p}-MIN_NUM_FORMS": "0", f"{p}-MAX_NUM_FORMS": "1000"}
    gdata = {"name": "G", "account_number": group.account_number, "account_type": "group", "status": "active",
             **mgmt("plans", 0), **mgmt("addresses", 1), **mgmt("contacts", 2),
             "addresses-0-kind": "mailing", "addresses-0-line1": "x", "addresses-0-city": "c", "addresses-0-state": "TXX", "addresses-0-zip_code": "1",
             "contacts-0-name": "a", "contacts-0-is_primary": "on", "contacts-1-name": "b", "contacts-1-is_primary": "on"}
    post("/admin/plans/employergroup/add/", gdata)
    post("/admin/plans/employergroup/add/", {**gdata, "account_number": "NEW-1"})
    pdata = {"group": group.pk, "carrier": plan.carrier_id, "line_of_coverage": "medical", "name": "P", "effective_date": "2026-01-01",
             "renewal_date": "2025-01-01", "billing_type": "list_bill", "funding_type": "fully_insured", "status": "active", "rate_basis": "tiered",
             "contribution_basis": "percent", "employer_contribution_employee": "0", "employer_contribution_dependents": "0", "waiting_period_days": "0",
             **mgmt("rates", 1), "rates-0-tier": "employee", "rates-0-monthly_rate": "-5"}
    post("/admin/plans/plan/add/", pdata)
    post("/admin/plans/plan/add/", {**pdata, "line_of_coverage": "zzz"})
    post("/admin/plans/plan/add/", {**pdata, "renewal_date": "2027-01-01", "rates-0-monthly_rate": "5"})
    # imports
    for url, content in [("/admin/plans/plan/import/", b"garbage\x00\xff"), ("/admin/plans/employergroup/import/", b"name,account_number\nA,\n"),
                         ("/admin/hrsync/employee/import/", b"employer_group,email\nnope,bad\n"), ("/admin/hrsync/employee/import/", b"\xff\xfe")]:
        post(url, {"format": "0", "import_file": SimpleUploadedFile("x.csv", content), "resource": "0"})
    print("\n".join(map(str, fails)))
    json.dump([list(map(str, f)) for f in fails], open("/tmp/review/fails2.json", "w"))
    # API renew with far date
    r = None
    try:
        r = api.post(f"/api/plans/{plan.pk}/renew/", {"effective_date": "9999-06-01"}, format="json")
        print("renew far", r.status_code)
    except Exception as e:
        print("renew far EXC", repr(e)[:200])
    assert not fails
