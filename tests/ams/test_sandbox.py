"""The AMS sandbox speaks SOAP 1.1 from a served WSDL, with tickets, faults and safe XML parsing."""

import pytest
import requests

from integrations.clients.ams360 import Ams360Client, ams360_client
from integrations.http import AuthError, TransientError

SOAP = "/ams360/v3/WSAPIService.svc"


def test_the_wsdl_names_the_wsapi_operations(ams_sandbox, sandbox_server):
    wsdl = requests.get(f"{sandbox_server}{SOAP}?wsdl", timeout=5).text
    for op in (
        "Login",
        "CustomerGetById",
        "CustomerGetByNumber",
        "CustomerGetListByNamePrefix",
        "CustomerInsert",
        "CustomerUpdate",
        "CustomerContactGetList",
        "PolicyGet",
        "PolicyGetListByCustomerId",
        "PolicyGetListByPolicyNumber",
        "PolicyInsert",
        "PolicyRenew",
    ):
        assert f'name="{op}"' in wsdl
    assert "http://www.WSAPI.AMS360.com/v3.0" in wsdl


def test_customers_by_id_number_and_prefix_and_policies_by_a_number_that_is_not_unique(ams_sandbox):
    client = ams360_client()
    first = client.customer_by_number(1)
    assert client.customer_get(first["CustomerId"])["CustomerNumber"] == 1
    new = client.customer_insert({"FirstName": "Zed", "LastName": "Zyxwv"})
    assert [c["CustomerId"] for c in client.customers_by_name_prefix("zyx")] == [new]
    for customer in (new, first["CustomerId"]):
        client.policy_insert({"CustomerId": customer, "PolicyNumber": "SAME-1", "PolicyType": "DENTAL"})
    assert {p["CustomerId"] for p in client.policies_by_number("SAME-1")} == {new, first["CustomerId"]}
    renewed = client.policy_renew({"PriorPolicyId": client.policies(new)[0]["PolicyId"]})
    assert client.policy_get(renewed)["TypeOfBusiness"] == "Renewal"


def test_an_expired_ticket_logs_in_again_once(ams_sandbox):
    client = ams360_client()
    client.customer_by_number(1)
    first_ticket = client.ticket
    ams_sandbox.knobs(ticket_ttl_seconds=0)
    client.login()  # a ticket that is already expired
    ams_sandbox.knobs(ticket_ttl_seconds=1800)
    assert client.customer_by_number(2)["CustomerNumber"] == 2
    assert client.ticket not in (None, first_ticket)


def test_wrong_credentials_are_an_auth_error(ams_sandbox, settings):
    url = (settings.AMS_WSAPI_URL or f"{settings.SANDBOX_URL}{SOAP}") + "?wsdl"
    client = Ams360Client(wsdl_url=url, agency_no="1000", login_id="agencydesk", password="wrong")
    with pytest.raises(AuthError):
        client.customer_by_number(1)


def test_a_fault_on_a_read_is_transient_with_the_systems_message(ams_sandbox):
    ams_sandbox.knobs(fault_rate=1.0)
    client = ams360_client()
    with pytest.raises(TransientError, match="answered: The service is unavailable"):
        client.customer_by_number(1)
    # a fault is an answer, not a lost request: tried again by the sync's schedule, not within the call
    assert client.calls == 1 and client.last_status == 500


def test_xml_with_a_dtd_or_entities_is_refused(ams_sandbox, sandbox_server):
    evil = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<Login xmlns="http://www.WSAPI.AMS360.com/v3.0"><AgencyNo>&e;</AgencyNo></Login></s:Body></s:Envelope>'
    )
    reply = requests.post(f"{sandbox_server}{SOAP}", data=evil, headers={"Content-Type": "text/xml"}, timeout=5)
    assert reply.status_code == 400 and "root:" not in reply.text
    assert requests.post(f"{sandbox_server}{SOAP}", data="<not xml", timeout=5).status_code == 400
