"""The agency management system (AMS360 WSAPI v3) over SOAP, with zeep, from its served WSDL, on the
one client base (``SoapClient``).

Speaks the WSAPI's names and returns plain dicts (``CustomerId``, ``PolicyNumber``, ...); ``ams``'s
services decide what they mean. ``Login`` once per client, the ticket in the ``WSAPISession`` header
of every call; a ``WSAPISecurityFault`` (expired ticket) logs in again once and repeats the call.
Reads get the base's quick retries; writes are never sent twice (the WSAPI has no idempotency keys).
Faults become ``integrations.http`` errors with the system's message: a general fault on a read is
transient, on a write a refusal; "not found" is ``NotFoundError``.
"""

from django.conf import settings
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from ..http import AuthError, IntegrationError, NotFoundError, RejectedError, TransientError, retry_policy
from .soap import SoapClient

NS = "http://www.WSAPI.AMS360.com/v3.0"
READS = {
    "CustomerGetById",
    "CustomerGetByNumber",
    "CustomerGetListByNamePrefix",
    "CustomerContactGetList",
    "PolicyGet",
    "PolicyGetListByCustomerId",
    "PolicyGetListByPolicyNumber",
}


def _flat(data):
    if isinstance(data, dict) and "LineOfBusinessList" in data:
        lob = data["LineOfBusinessList"]
        data["LineOfBusinessList"] = list((lob or {}).get("LineOfBusiness") or []) if isinstance(lob, dict) else list(lob or [])
    return data


def _plain(value):
    """zeep's objects as dicts; a LineOfBusinessList as a plain list of codes."""
    data = serialize_object(value, dict)
    return [_flat(item) for item in data] if isinstance(data, list) else _flat(data)


class _TicketRefused(IntegrationError):
    """A ``WSAPISecurityFault`` on a call: log in again (once) and repeat it."""


class Ams360Client(SoapClient):
    system = "agency management system"

    def __init__(self, *, wsdl_url: str, agency_no: str, login_id: str, password: str, timeout: float | None = None, **kwargs):
        self.credentials = {"AgencyNo": agency_no, "LoginId": login_id, "Password": password}
        if timeout is not None:
            kwargs.setdefault("read_timeout", timeout)
        super().__init__(wsdl_url=wsdl_url, base_url=wsdl_url.split("?", 1)[0], **kwargs)
        self.ticket: str | None = None

    # --- calls ------------------------------------------------------------------------------------
    def login(self) -> str:
        reply = self.invoke("Login", lambda: self.zeep.service.Login(**self.credentials))
        self.ticket = reply.header.WSAPISession.Ticket
        return self.ticket

    def call(self, operation: str, **args):
        """One WSAPI call with the session ticket; plain data back."""

        def send():
            if self.ticket is None:
                self.login()
            header = self.zeep.get_element(f"{{{NS}}}WSAPISession")(Ticket=self.ticket)
            return _plain(
                self.invoke(operation, lambda: getattr(self.zeep.service, operation)(**args, _soapheaders=[header]), once=operation not in READS)
            )

        try:
            return send()
        except _TicketRefused:
            self.ticket = None  # refused before it did anything: log in again and repeat, once
        try:
            return send()
        except _TicketRefused as exc:
            raise AuthError(f"The {self.system} refused the call: {exc.message}", code="WSAPISecurityFault") from exc

    def fault_error(self, fault, operation, *, once=False):
        kind, message = self._fault_kind(fault), fault.message or "no message"
        if kind == "WSAPISecurityFault":
            if operation == "Login":
                return AuthError(f"The {self.system} refused our login: {message}", code=kind)
            return _TicketRefused(message, code=kind)
        if "not found" in message.lower():
            return NotFoundError(message, code=kind)
        return (RejectedError if once else TransientError)(f"The {self.system} answered: {message}", code=kind)

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
        wsdl_url=f"{url}?wsdl",
        agency_no=settings.AMS_AGENCY_NO,
        login_id=settings.AMS_LOGIN_ID,
        password=settings.AMS_PASSWORD,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT,
        read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        retry=retry_policy(),
        pool_size=settings.INTEGRATIONS_POOL_SIZE,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
    )
