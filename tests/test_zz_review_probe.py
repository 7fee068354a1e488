import json
import pytest
from tests.conftest import api_as
from tests.plans.factories import PlanFactory, EmployerGroupFactory, CarrierFactory, tier_rates
from tests.hrsync.factories import EmployeeFactory, BenefitsLevelFactory

pytestmark = pytest.mark.django_db

BAD = [None, "x", 1, [], {}, [1], {"a": 1}, "2026-13-45", -1, 10**20, "nan", True, [{"x": 1}], "\x00"]

def probe(api, method, url, payloads):
    out = []
    for p in payloads:
        r = getattr(api, method)(url, p, format="json")
        if r.status_code >= 500:
            out.append((method, url, p, r.status_code))
    return out

def test_probe(api, client, agency_admin):
    plan = PlanFactory()
    group = plan.group
    emp = EmployeeFactory(employer_group=group)
    lvl = emp.benefits_level
    fails = []
    fields_plan = ["group", "carrier", "line_of_coverage", "name", "effective_date", "renewal_date", "benefit_summary",
                   "rates", "rate_basis", "employer_contribution_employee", "waiting_period_days", "status", "cancellation_date"]
    base_plan = {"group": group.pk, "carrier": plan.carrier_id, "line_of_coverage": "medical", "name": "P",
                 "effective_date": "2026-01-01", "renewal_date": "2027-01-01", "rates": [{"tier": t["tier"], "monthly_rate": str(t["monthly_rate"])} for t in tier_rates()]}
    for f in fields_plan:
        for v in BAD:
            for method, url in [("post", "/api/plans/"), ("patch", f"/api/plans/{plan.pk}/")]:
                try:
                    r = getattr(api, method)(url, {**base_plan, f: v}, format="json")
                except Exception as e:
                    fails.append((method, url, f, repr(v), "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((method, url, f, repr(v), r.status_code))
    rates_bad = [[{"tier": "employee", "monthly_rate": "x"}], [{"age_min": "a"}], [{"tier": "zzz", "monthly_rate": 1}],
                 [{"monthly_rate": 1}], [{"age_min": 5, "age_max": 1, "monthly_rate": 1}], [{"age_min": 70000, "monthly_rate": 1}],
                 [{"tier": "employee", "monthly_rate": "1e30"}], [{"tier": "employee", "monthly_rate": -1}]]
    for rb in rates_bad:
        for basis in ["tiered", "age_banded"]:
            for method, url in [("post", "/api/plans/"), ("patch", f"/api/plans/{plan.pk}/")]:
                try:
                    r = getattr(api, method)(url, {**base_plan, "rate_basis": basis, "rates": rb}, format="json")
                except Exception as e:
                    fails.append((method, url, "rates", rb, "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((method, url, "rates", rb, r.status_code))
    base_group = {"name": "G", "account_number": "X-1"}
    for f in ["name", "account_number", "federal_ein", "servicing_users", "addresses", "contacts", "renewal_month", "employee_count", "status"]:
        for v in BAD + [[{"kind": "x"}], [{"name": "a", "is_primary": True}, {"name": "b", "is_primary": True}], [{"line1": "a", "city": "c", "state": "TXX", "zip_code": "1"}]]:
            for method, url in [("post", "/api/employer-groups/"), ("patch", f"/api/employer-groups/{group.pk}/")]:
                try:
                    r = getattr(api, method)(url, {**base_group, f: v}, format="json")
                except Exception as e:
                    fails.append((method, url, f, repr(v), "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((method, url, f, repr(v), r.status_code))
    for v in BAD:
        for f in ["effective_date", "rate_change_percent"]:
            try:
                r = api.post(f"/api/plans/{plan.pk}/renew/", {f: v}, format="json")
            except Exception as e:
                fails.append(("renew", f, repr(v), "EXC " + repr(e)[:200])); continue
            if r.status_code >= 500:
                fails.append(("renew", f, repr(v), r.status_code))
    base_emp = {"employer_group": group.pk, "first_name": "a", "last_name": "b", "email": "a@b.example"}
    for f in ["employer_group", "email", "date_of_birth", "leave_date", "hire_date", "annual_pay", "benefits_level", "gender", "create_benefits_record"]:
        for v in BAD:
            for method, url in [("post", "/api/employees/"), ("patch", f"/api/employees/{emp.pk}/")]:
                try:
                    r = getattr(api, method)(url, {**base_emp, f: v}, format="json")
                except Exception as e:
                    fails.append((method, url, f, repr(v), "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((method, url, f, repr(v), r.status_code))
    for payload in [{}, {"ids": []}, {"ids": "x"}, {"filters": "x"}, {"filters": {"sync_state": "zzz"}}, {"filters": {"employer_group": "x"}},
                    {"filters": {"q": 1}}, {"ids": [1], "filters": {}}, {"filters": {}}, {"ids": [10**30]}, {"filters": {"benefits_level": "nope"}},
                    {"filters": {"leaver": "maybe"}}, {"filters": {"unknown": 1}}, {"filters": {"q": ["a", "b"]}}]:
        for url in ["/api/employees/sync/", "/api/employees/assign-benefits-level/"]:
            for extra in [{}, {"benefits_level": lvl.pk}, {"benefits_level": "x"}]:
                try:
                    r = api.post(url, {**payload, **extra}, format="json")
                except Exception as e:
                    fails.append((url, payload, extra, "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((url, payload, extra, r.status_code))
    for f, v in [("name", None), ("package_code", "x" * 100), ("name", lvl.name)]:
        for method, url in [("post", "/api/benefits-levels/"), ("patch", f"/api/benefits-levels/{lvl.pk}/")]:
            r = getattr(api, method)(url, {"name": "L2", f: v}, format="json")
            if r.status_code >= 500:
                fails.append((url, f, v, r.status_code))
    # filters on list endpoints
    for url in ["/api/plans/", "/api/employer-groups/", "/api/carriers/", "/api/employees/", "/api/sync-attempts/", "/api/benefits-levels/",
                "/api/users/", "/api/agents/", "/api/audit-log/", "/api/security-groups/"]:
        for q in ["?carrier=x", "?group=x", "?effective_date_after=bad", "?modified_since=bad", "?renewal_month=13", "?ordering=zzz",
                  "?page=x", "?page_size=-1", "?employer_group=x", "?status=x", "?employee=x", "?servicing_user=x", "?renewed_from=x",
                  "?security_group=x", "?user=x", "?actor=x", "?q=%00", "?page=99999", "?line_of_coverage=zz", "?benefits_level=x", "?leaver=x"]:
            try:
                r = api.get(url + q)
            except Exception as e:
                fails.append((url + q, "EXC " + repr(e)[:200])); continue
            if r.status_code >= 500:
                fails.append((url + q, r.status_code))
    # accounts
    for url, base in [("/api/users/", {"username": "u1"}), ("/api/agents/", {"first_name": "a", "last_name": "b"}),
                      ("/api/security-groups/", {"name": "sg"}), ("/api/carriers/", {"name": "c", "code": "c"})]:
        for k in list(base) + ["security_group", "user", "individuals", "email", "npn", "code", "naic", "active"]:
            for v in BAD:
                try:
                    r = api.post(url, {**base, k: v}, format="json")
                except Exception as e:
                    fails.append((url, k, repr(v), "EXC " + repr(e)[:200])); continue
                if r.status_code >= 500:
                    fails.append((url, k, repr(v), r.status_code))
    r = api.post("/api/auth/token/", {"username": "x" * 1000, "password": "y"}, format="json")
    if r.status_code >= 500: fails.append(("token", r.status_code))
    # deletes
    for url in [f"/api/carriers/{plan.carrier_id}/", f"/api/employer-groups/{group.pk}/", f"/api/benefits-levels/{lvl.pk}/"]:
        try:
            r = api.delete(url)
        except Exception as e:
            fails.append(("delete", url, "EXC " + repr(e)[:200])); continue
        if r.status_code >= 500: fails.append(("delete", url, r.status_code))
    from tests.accounts.factories import SecurityGroupFactory
    sg = agency_admin.security_group
    try:
        r = api.delete(f"/api/security-groups/{sg.pk}/")
        if r.status_code >= 500: fails.append(("delete sg", r.status_code))
    except Exception as e:
        fails.append(("delete sg", "EXC " + repr(e)[:200]))
    print("\n".join(map(str, fails)))
    json.dump([list(map(str, f)) for f in fails], open("/tmp/review/fails.json", "w"))
    assert not fails
