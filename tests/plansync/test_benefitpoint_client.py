"""The benefits-admin system as the sandbox plays it and the SOAP client speaks it (real HTTP)."""

import datetime

import pytest
import requests

from integrations.clients.benefitpoint import AccessDenied, DuplicateRecord, ValidationFailure, benefitpoint_client
from integrations.http import RejectedError

pytestmark = pytest.mark.django_db
NEW = {
    "accountID": 40002,
    "productTypeID": 102,
    "productStatus": "Current",
    "name": "Client test dental",
    "carrierID": 2010,
    "effectiveAsOf": "2026-01-01",
    "renewalOn": "2027-01-01",
    "billingType": "Direct_Bill",
}


def test_the_wsdl_is_served_with_the_spec_operations(benefitpoint):
    wsdl = requests.get(f"{benefitpoint.url}/services/BrokerConnectV4?wsdl", timeout=5).text
    for name in (
        "findAccounts",
        "getAccount",
        "findProducts",
        "createProduct",
        "updateProduct",
        "findChanges",
        "getProductTypes",
        "getAvailableCarriers",
        "findRates",
        "getRate",
        "SessionIdHeader",
        "processStartedOn",
        "parentProductID",
        "alternativePlanID",
        "LoginService",
    ):
        assert name in wsdl


def test_xml_entities_are_not_expanded_and_bad_xml_is_a_fault(benefitpoint):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:bp="http://ws.benefitpoint.com/common/v3">'
        "<soap:Body><bp:login><bp:username>&e;</bp:username><bp:password>x</bp:password></bp:login></soap:Body></soap:Envelope>"
    )
    reply = requests.post(f"{benefitpoint.url}/services/LoginService", data=bomb, timeout=5)
    assert reply.status_code == 500 and "faultstring" in reply.text and "root:" not in reply.text
    broken = requests.post(f"{benefitpoint.url}/services/LoginService", data="<not-xml", timeout=5)
    assert broken.status_code == 500 and "not well-formed" in broken.text


def test_session_results_and_changes(benefitpoint):
    with benefitpoint_client() as client:
        accounts = client.find_accounts("Pioneer")
        assert [a["accountID"] for a in accounts] == [40002]
        types = {t["productTypeID"]: t["lineOfCoverage"] for t in client.product_types()}
        assert types[111] == types[112] == "Limited_Benefit_Products"
        changes = client.find_changes(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        assert changes["processStartedOn"] and changes["modifications"]
    assert client.session_id is None  # logged out


def test_typed_errors_per_error_code(benefitpoint, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    with benefitpoint_client() as client:
        benefitpoint.knobs(access_error_rate=1.0)
        with pytest.raises(AccessDenied):
            client.update_product({"productID": benefitpoint.products(accountID=40002)[0]["productID"], "name": "x"})
        benefitpoint.knobs(access_error_rate=0.0, validation_error_rate=1.0)
        with pytest.raises(ValidationFailure):
            client.update_product({"productID": benefitpoint.products(accountID=40002)[0]["productID"], "name": "x"})
        benefitpoint.knobs(validation_error_rate=0.0, duplicate_error_rate=1.0)
        with pytest.raises(DuplicateRecord):
            client.create_product({**NEW, "planInfo": {"alternativePlanID": "client-test-dup"}})
        assert not benefitpoint.products(alternativePlanID="client-test-dup")
        benefitpoint.knobs(duplicate_error_rate=0.0)
        with pytest.raises(ValidationFailure, match="required Service Info fields missing"):
            client.get_account(40048)
        with pytest.raises(ValidationFailure, match="carrierID 1 is not an available carrier"):
            client.create_product({**NEW, "carrierID": 1, "planInfo": {"alternativePlanID": "client-test-bad"}})


def test_a_lost_create_is_found_by_its_marker_not_made_twice(benefitpoint):
    benefitpoint.knobs(lost_create_rate=1.0)
    with benefitpoint_client() as client:
        product_id = client.create_product({**NEW, "planInfo": {"alternativePlanID": "client-test-lost"}})
    assert [p["productID"] for p in benefitpoint.products(alternativePlanID="client-test-lost")] == [product_id]


def test_an_expired_session_logs_in_once_more(benefitpoint):
    benefitpoint.knobs(session_expire_after_calls=1)
    with benefitpoint_client() as client:
        for _ in range(3):
            client.get_product(benefitpoint.products(accountID=40002)[0]["productID"])
        assert client.logins == 3


def test_wrong_credentials_are_a_refusal_naming_the_setting(benefitpoint, settings):
    settings.BENEFITS_ADMIN_PASSWORD = "wrong"
    with pytest.raises(RejectedError, match="BENEFITS_ADMIN_PASSWORD"), benefitpoint_client() as client:
        client.find_accounts()
