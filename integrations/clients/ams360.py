"""The agency management system (AMS360 WSAPI v3) over SOAP, with zeep, from its served WSDL.

Speaks the WSAPI's names and returns plain dicts (``CustomerId``, ``PolicyNumber``, ...); ``ams``'s
services decide what they mean. ``Login`` once per client, the ticket in the ``WSAPISession`` header
of every call; a ``WSAPISecurityFault`` (expired ticket) logs in again once and repeats the call.
Reads are retried with backoff on transport faults and general faults; writes are not (the WSAPI
has no idempotency keys). Faults become ``integrations.http`` errors with the system's message.
"""
import logging
import threading
import time

import requests
from django.conf import settings
from zeep import Client as ZeepClient
from zeep import Settings
from zeep.exceptions import Fault, TransportError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsdl import Document

from ..http import AuthError, IntegrationError, NotFoundError, RejectedError, RetryPolicy, TransientError

log = logging.getLogger(__name__)
NS = "http://www.WSAPI.AMS360.com/v3.0"
READS = {"CustomerGetById", "CustomerGetByNumber", "CustomerGetListByNamePrefix", "CustomerContactGetList", "PolicyGet",
         "PolicyGetListByCustomerId", "PolicyGetListByPolicyNumber"}
_wsdl_cache: dict[str, Document] = {}
_wsdl_lock = threading.Lock()


def _flat(data):
    if isinstance(data, dict) and "LineOfBusinessList" in data:
        lob = data["LineOfBusinessList"]
        data["LineOfBusinessList"] = list((lob or {}).get("LineOfBusiness") or []) if isinstance(lob, dict) else list(lob or [])
    return data


def _plain(value):
    """zeep's objects as dicts; a LineOfBusinessList as a plain list of codes."""
    data = serialize_object(value, dict)
    return [_flat(item) for item in data] if isinstance(data, list) else _flat(data)


class Ams360Client:
    system = "agency management system"

    def __init__(self, *, wsdl_url: str, agency_no: str, login_id: str, password: str, timeout: float = 10.0,
                 retry: RetryPolicy | None = None, trust_env: bool = False):
        self.wsdl_url, self.credentials = wsdl_url, {"AgencyNo": agency_no, "LoginId": login_id, "Password": password}
        self.retry = retry or RetryPolicy()
        self.calls = 0
        session = requests.Session()
        session.trust_env = trust_env
        self.transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        self.zeep = self._client()
        self.ticket: str | None = None

    def _client(self) -> ZeepClient:
        """The WSDL is fetched and parsed once per process and URL; each client gets its own transport."""
        with _wsdl_lock:
            document = _wsdl_cache.get(self.wsdl_url)
            if document is None:
                try:
                    document = Document(self.wsdl_url, self.transport, settings=self._settings())
                except (requests.RequestException, TransportError) as exc:
                    raise TransientError(f"The {self.system}'s WSDL could not be read at {self.wsdl_url}: {exc}") from exc
                _wsdl_cache[self.wsdl_url] = document
        return ZeepClient(document, transport=self.transport, settings=self._settings())

    @staticmethod
    def _settings() -> Settings:
        # Safe XML: no DTDs, no entities, no external fetches (zeep's defaults, spelled out).
        return Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False)

    # --- calls ------------------------------------------------------------------------------------
    def login(self) -> str:
        self.calls += 1
        try:
            reply = self.zeep.service.Login(**self.credentials)
        except Fault as exc:
            if self._fault_kind(exc) == "WSAPISecurityFault":
                raise AuthError(f"The {self.system} refused our login: {exc.message}", code="WSAPISecurityFault") from exc
            raise TransientError(f"The {self.system} answered: {exc.message}", code=self._fault_kind(exc)) from exc
        except (requests.RequestException, TransportError) as exc:
            raise TransientError(f"The {self.system} could not be reached to log in: {exc}", code="connection") from exc
        self.ticket = reply.header.WSAPISession.Ticket
        return self.ticket

    def call(self, operation: str, **args):
        """One WSAPI call with the session ticket; plain data back."""
        read = operation in READS
        tries = max(1, self.retry.attempts) if read else 1
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.ticket is None:
                    self.login()
                header = self.zeep.get_element(f"{{{NS}}}WSAPISession")(Ticket=self.ticket)
                self.calls += 1
                result = getattr(self.zeep.service, operation)(**args, _soapheaders=[header])
                return _plain(result)
            except TransientError as exc:
                exc.attempts, error = attempt, exc
            except Fault as exc:
                kind = self._fault_kind(exc)
                if kind == "WSAPISecurityFault" and not relogged:
                    relogged, self.ticket = True, None
                    attempt -= 1
                    continue
                if kind == "WSAPISecurityFault":
                    raise AuthError(f"The {self.system} refused the call: {exc.message}", code=kind) from exc
                if "not found" in (exc.message or "").lower():
                    raise NotFoundError(exc.message, code=kind, attempts=attempt) from exc
                error: IntegrationError = (TransientError if read else RejectedError)(
                    f"The {self.system} answered: {exc.message}", code=kind, attempts=attempt)
            except (requests.Timeout, requests.ConnectionError, TransportError) as exc:
                error = TransientError(f"The {self.system} could not be reached: {exc}", code="connection", attempts=attempt)
            if not isinstance(error, TransientError) or attempt >= tries:
                if isinstance(error, TransientError) and tries > 1:
                    error.message = f"{error.message} (gave up after {attempt} tries)"
                raise error
            wait = self.retry.delay(attempt - 1)
            log.info("%s %s: %s; retry %d in %.2fs", self.system, operation, error.message, attempt, wait)
            time.sleep(wait)

    @staticmethod
    def _fault_kind(exc: Fault) -> str:
        detail = exc.detail
        if detail is not None and len(detail):
            return detail[0].tag.rsplit("}", 1)[-1]
        return "Fault"

    # --- operations (the WSAPI's names in, plain dicts out) ------------------------------------------
    def customer_get(self, customer_id: str) -> dict | None:
        """The customer as it is now; for a merged id, the survivor (its ``CustomerId`` differs); None if deleted."""
        try:
            return self.call("CustomerGetById", CustomerId=customer_id)
        except NotFoundError:
            return None

    def customer_by_number(self, number: int) -> dict | None:
        try:
            return self.call("CustomerGetByNumber", CustomerNumber=number)
        except NotFoundError:
            return None

    def customers_by_name_prefix(self, prefix: str, customer_type: str | None = None) -> list[dict]:
        """Candidates for a person to choose from (or a reconciliation walk); never a link by itself."""
        return self.call("CustomerGetListByNamePrefix", NamePrefix=prefix, CustomerType=customer_type) or []

    def customer_insert(self, customer: dict) -> str:
        return self.call("CustomerInsert", Customer=customer)

    def customer_update(self, customer: dict) -> None:
        self.call("CustomerUpdate", Customer=customer)

    def contacts(self, customer_id: str) -> list[dict]:
        return self.call("CustomerContactGetList", CustomerId=customer_id) or []

    def policy_get(self, policy_id: str) -> dict | None:
        try:
            return self.call("PolicyGet", PolicyId=policy_id)
        except NotFoundError:
            return None

    def policies(self, customer_id: str, status: str | None = None) -> list[dict]:
        return self.call("PolicyGetListByCustomerId", CustomerId=customer_id, PolicyStatus=status) or []

    def policies_by_number(self, number: str) -> list[dict]:
        """Every policy with this number: policy numbers are not unique in the AMS."""
        return self.call("PolicyGetListByPolicyNumber", PolicyNumber=number) or []

    def policy_insert(self, policy: dict) -> str:
        return self.call("PolicyInsert", Policy=policy)

    def policy_renew(self, policy: dict) -> str:
        return self.call("PolicyRenew", Policy=policy)


def ams360_client() -> Ams360Client:
    """A client configured from settings (the sandbox unless AMS_WSAPI_URL says otherwise)."""
    url = settings.AMS_WSAPI_URL or f"{settings.SANDBOX_URL.rstrip('/')}/ams360/v3/WSAPIService.svc"
    return Ams360Client(
        wsdl_url=f"{url}?wsdl", agency_no=settings.AMS_AGENCY_NO, login_id=settings.AMS_LOGIN_ID,
        password=settings.AMS_PASSWORD, timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        retry=RetryPolicy(attempts=settings.INTEGRATIONS_RETRY_ATTEMPTS, backoff=settings.INTEGRATIONS_RETRY_BACKOFF),
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
    )
