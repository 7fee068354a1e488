"""The SOAP clients on the one client base: the same pooled session, quick retries, typed errors and
counters as REST, against the sandbox over real HTTP (through a small fault-injecting proxy where an
HTTP status or a lost answer is needed)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.clients.ams360 import Ams360Client, ams360_client
from integrations.clients.benefitpoint import BenefitPointClient, benefitpoint_client
from integrations.http import AuthError, NotFoundError, RejectedError, RetryPolicy, TransientError

NEW = {
    "accountID": 40002,
    "productTypeID": 102,
    "productStatus": "Current",
    "name": "Base test dental",
    "carrierID": 2010,
    "effectiveAsOf": "2026-01-01",
    "renewalOn": "2027-01-01",
    "billingType": "Direct_Bill",
}


SERVER_FAULT = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
    b"<faultcode>soap:Server</faultcode><faultstring>Internal error (the proxy's fault)</faultstring>"
    b"</soap:Fault></soap:Body></soap:Envelope>"
)


class Proxy:
    """Forwards to the sandbox; ``plan`` is a list of what to do with the next POSTs, in order:
    ``(status, False)`` answer ``status`` without forwarding; ``(status, True)`` forward, then answer
    ``status`` (the answer is lost); ``("hang", True)`` forward, then hold past the read timeout;
    ``("fault", forward)`` answer a SOAP ``Server`` fault (HTTP 500), after forwarding or instead."""

    def __init__(self, target: str):
        self.target, self.plan, self.posts, self.forwarded = target, [], 0, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if status in (429, 503):
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                # the Host header kept: a served WSDL names the proxy as the service's address
                reply = requests.get(proxy.target + self.path, headers={"Host": self.headers["Host"]}, timeout=10)
                self._reply(reply.status_code, reply.content, reply.headers.get("Content-Type", "text/xml"))

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.posts += 1
                what, forward = proxy.plan.pop(0) if proxy.plan else (None, True)
                reply = None
                if forward:
                    proxy.forwarded += 1
                    reply = requests.post(
                        proxy.target + self.path,
                        data=body,
                        timeout=10,
                        headers={k: v for k, v in self.headers.items() if k.lower() in ("content-type", "soapaction")},
                    )
                if what == "hang":
                    time.sleep(1.5)
                    return
                if what == "fault":
                    return self._reply(500, SERVER_FAULT, "text/xml; charset=utf-8")
                if what is not None:
                    return self._reply(what, f"{what} from the gateway".encode())
                self._reply(reply.status_code, reply.content, reply.headers.get("Content-Type", "text/xml"))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(sandbox_server):
    p = Proxy(sandbox_server)
    yield p
    p.close()


def bp(proxy: Proxy | None = None, **kwargs) -> BenefitPointClient:
    """A benefits-admin client whose WSDL comes from the sandbox and whose calls go through ``proxy``."""
    base = benefitpoint_client()
    endpoint = f"{proxy.url}/benefitpoint/services" if proxy else base.endpoint
    return BenefitPointClient(
        wsdl_url=base.wsdl_url,
        endpoint=endpoint,
        username="agencydesk",
        password="sandbox-password",
        **{"retry": RetryPolicy(attempts=3, backoff=0.01), "read_timeout": 1.0, **kwargs},
    )


def test_the_soap_client_is_a_client_on_the_shared_pool(benefitpoint):
    # given: two clients of the same system, and a REST client with the same policy
    first, second = bp(), bp()
    # then: the same pooled adapter (bounded, blocking), carrying urllib3 retries from the policy
    adapter = first.session.get_adapter(first.endpoint)
    assert adapter is second.session.get_adapter(second.endpoint)
    assert adapter._pool_block and adapter.max_retries.total == 2
    assert 500 not in adapter.max_retries.status_forcelist and 503 in adapter.max_retries.status_forcelist
    # writes without a key: a different pool whose retries never repeat what may have arrived
    write = first.write_session.get_adapter(first.endpoint).max_retries
    assert write.read == 0 and set(write.status_forcelist) == {429, 503}
    assert first.timeout == (3.0, 1.0)


def test_a_read_is_retried_by_urllib3_on_unavailable_and_counted(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    proxy.plan = [(503, False), (502, False)]
    # when
    accounts = client.find_accounts("Pioneer")
    # then: answered on the third try; every HTTP request counted
    assert [a["accountID"] for a in accounts] == [40002]
    assert (client.calls, client.last_status, proxy.posts) == (1 + 3, 200, 4)


def test_a_read_is_tried_again_on_a_server_fault_within_the_call(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    proxy.plan = [("fault", False), ("fault", True)]
    # when: the first try is refused by a fault, the second reaches the system and its answer is a fault
    accounts = client.find_accounts("Pioneer")
    # then: answered on the third try, each try counted
    assert [a["accountID"] for a in accounts] == [40002]
    assert (client.calls, proxy.posts) == (1 + 3, 1 + 3)


def test_a_server_fault_is_transient_with_the_systems_message_after_the_reads_tries(benefitpoint):
    client = bp()
    client.login()
    benefitpoint.knobs(error_rate=1.0)
    with pytest.raises(TransientError, match=r"answered with a fault: Internal error.*gave up after 3 tries") as exc:
        client.get_product(benefitpoint.products(accountID=40002)[0]["productID"])
    # the policy's 3 tries in all; then the sync's attempt tries again later (RetryPolicy.next_try)
    assert client.calls == 1 + 3 and exc.value.status == 500 and exc.value.attempts == 3


def test_a_writes_server_fault_is_not_sent_again(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    product = benefitpoint.products(accountID=40002)[0]
    posts = proxy.posts
    proxy.plan = [("fault", True)]  # the update is made there; the answer is a fault
    with pytest.raises(TransientError, match="answered with a fault"):
        client.update_product({"productID": product["productID"], "name": "Updated once"})
    assert (proxy.posts - posts, proxy.forwarded - posts) == (1, 1)
    assert benefitpoint.stats()["calls"]["updateProduct"] == 1


def test_a_create_whose_answer_a_gateway_lost_is_found_by_its_marker_and_sent_once(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    proxy.plan = [(502, True)]  # the create is done there; a gateway answers 502
    product_id = client.create_product({**NEW, "planInfo": {"alternativePlanID": "base-test-502"}})
    assert [p["productID"] for p in benefitpoint.products(alternativePlanID="base-test-502")] == [product_id]
    assert proxy.forwarded >= 2  # the create once, then the look-up


def test_a_create_that_timed_out_is_not_sent_again(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    proxy.plan = [("hang", True)]
    product_id = client.create_product({**NEW, "planInfo": {"alternativePlanID": "base-test-hang"}})
    assert [p["productID"] for p in benefitpoint.products(alternativePlanID="base-test-hang")] == [product_id]
    creates = benefitpoint.stats()["calls"]["createProduct"]
    assert creates == 1


def test_a_create_refused_before_it_arrived_is_tried_again_at_once(benefitpoint, proxy):
    client = bp(proxy)
    client.login()
    proxy.plan = [(503, False)]
    product_id = client.create_product({**NEW, "planInfo": {"alternativePlanID": "base-test-503"}})
    assert [p["productID"] for p in benefitpoint.products(alternativePlanID="base-test-503")] == [product_id]
    assert benefitpoint.stats()["calls"]["createProduct"] == 1


@pytest.mark.parametrize(("status", "error"), [(404, NotFoundError), (401, AuthError), (400, RejectedError), (503, TransientError)])
def test_http_errors_are_the_same_typed_errors_as_rest(benefitpoint, proxy, status, error):
    client = bp(proxy, retry=RetryPolicy(attempts=2, backoff=0.01))
    proxy.plan = [(status, False)] * 2
    with pytest.raises(error) as exc:
        client.login()
    assert exc.value.status == status
    assert client.calls == (2 if status == 503 else 1)
    if status == 503:
        assert "gave up after 2 tries" in exc.value.message


def test_an_unreachable_system_is_transient_after_the_quick_retries(benefitpoint):
    base = benefitpoint_client()
    client = BenefitPointClient(
        wsdl_url=base.wsdl_url, endpoint="http://127.0.0.1:9/services", username="u", password="p", retry=RetryPolicy(attempts=2, backoff=0.01)
    )
    with pytest.raises(TransientError, match="could not be reached") as exc:
        client.find_accounts()
    assert client.calls == 2
    assert "127.0.0.1" not in exc.value.message  # the address is logged, never shown (issue 22, item 8)


def test_a_fork_shares_the_session_and_counts_its_own_calls(benefitpoint):
    with bp() as client:
        client.login()
        twin = client.fork()
        assert twin.find_accounts("Pioneer") and twin.session_id == client.session_id
        assert (twin.calls, client.calls, client.logins) == (1, 1, 1)
        assert twin.transport is not client.transport


def test_an_ams_write_a_gateway_lost_is_not_sent_twice(ams_sandbox, proxy, settings):
    client = Ams360Client(
        wsdl_url=f"{proxy.url}/ams360/v3/WSAPIService.svc?wsdl",
        agency_no=settings.AMS_AGENCY_NO,
        login_id=settings.AMS_LOGIN_ID,
        password=settings.AMS_PASSWORD,
        retry=RetryPolicy(attempts=3, backoff=0.01),
    )
    client.login()
    posts = proxy.posts
    proxy.plan = [(502, True)]
    with pytest.raises(TransientError, match="502"):
        client.customer_insert({"FirstName": "Once", "LastName": "Onlyonce"})
    assert proxy.posts - posts == 1
    assert [c["LastName"] for c in ams360_client().customers_by_name_prefix("Onlyonce")] == ["Onlyonce"]
