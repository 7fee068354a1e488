"""The benefits-administration system (BenefitPoint BrokerConnect v4) over SOAP, through zeep and the
WSDL the system serves, on the one client base (``SoapClient``). Returns plain data in the far side's
own names; plansync decides what it means.

- One session per run: ``with benefitpoint_client() as client:`` logs in on the first call and out
  at the end; a session fault logs in again once and repeats the call. ``fork()`` hands the same
  session to another thread (reads made a few at a time), with its own count of calls.
- Reads and updates (which set values, so repeating one is harmless) get the base's quick retries
  (429, 502-504, a failed connection); reads (``READS``) are also tried again at once on a ``Server``
  fault (HTTP 500: the sandbox's ``error_rate``), so a look-up of many reads gets through a steady
  fault rate; an update's or a create's fault is never repeated here (the sync tries again later).
  A create never is sent twice: every create carries a marker we control
  (``planInfo.alternativePlanID``) and, after a lost or failed response, the client looks the
  marker up and returns what it finds; found nothing, it raises, and the sync tries again later.
- ``Result`` errors become typed exceptions per ``errorCode``; faults and HTTP errors the base's.
"""

import contextlib
import copy
import logging
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from zeep.helpers import serialize_object

from ..http import AuthError, IntegrationError, RejectedError, TransientError, retry_policy
from .soap import SoapClient

log = logging.getLogger(__name__)
NS = "http://ws.benefitpoint.com/common/v3"
SYSTEM = "benefits-admin system"
CREATES = {"createProduct", "createRate"}
READS = frozenset(
    {
        "findAccounts",
        "getAccount",
        "findAccountContacts",
        "getAccountContact",
        "findProducts",
        "getProduct",
        "findRates",
        "getRate",
        "findChanges",
        "getProductTypes",
        "getAvailableCarriers",
    }
)


class BenefitPointResultError(RejectedError):
    """The system answered ``Result{success: false}``; ``code`` is its ``errorCode``."""


class AccessDenied(BenefitPointResultError):
    """Access_Error: the login may not see or change this record."""


class ApplicationFailure(BenefitPointResultError):
    """Application_Error: the system could not do it (e.g. no such record)."""


class DuplicateRecord(BenefitPointResultError):
    """Duplicate_Error: the system holds a record like this one already."""


class ValidationFailure(BenefitPointResultError):
    """Validation_Error: the data was refused (incl. "required Service Info fields missing")."""


class SystemFailure(TransientError):
    """System_Error: the system failed inside; trying again later may work."""


class SessionExpired(IntegrationError):
    """The session was refused even right after a new login."""


class _SessionRefused(IntegrationError):
    """A session fault: log in again (once) and repeat the call."""


class _Session:
    """The login a client and its forks share: its id, the logins made, one login at a time."""

    def __init__(self):
        self.id: str | None = None
        self.logins = 0
        self.lock = threading.Lock()


ERRORS = {
    "Access_Error": AccessDenied,
    "Application_Error": ApplicationFailure,
    "Duplicate_Error": DuplicateRecord,
    "Validation_Error": ValidationFailure,
    "System_Error": SystemFailure,
}


def _plain(value):
    """zeep's objects as JSON-ready data: dicts, lists, ISO dates, decimals as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class BenefitPointClient(SoapClient):
    system = SYSTEM
    reads = READS

    def __init__(self, *, wsdl_url: str, endpoint: str, username: str, password: str, **kwargs):
        self.endpoint, self.username, self.password = endpoint.rstrip("/"), username, password
        self._session = _Session()
        super().__init__(wsdl_url=wsdl_url, base_url=self.endpoint, **kwargs)

    def _connect(self) -> None:
        super()._connect()
        self.header = self.zeep.get_element(f"{{{NS}}}SessionIdHeader")
        self.login_service = self.zeep.create_service(f"{{{NS}}}LoginServiceBinding", f"{self.endpoint}/LoginService")
        self.service = self.zeep.create_service(f"{{{NS}}}BrokerConnectV4Binding", f"{self.endpoint}/BrokerConnectV4")

    def fork(self) -> "BenefitPointClient":
        """A client for another thread: the same session (one login serves every thread), its own count of calls."""
        twin = copy.copy(self)
        twin.calls = 0
        twin._connect()
        return twin

    # --- session --------------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.logout()

    @property
    def session_id(self) -> str | None:
        return self._session.id

    @property
    def logins(self) -> int:
        return self._session.logins

    def login(self) -> str:
        with self._session.lock:
            return self._login()

    def _login(self) -> str:
        self._session.logins += 1
        self._session.id = self.invoke("login", lambda: self.login_service.login(username=self.username, password=self.password))
        return self._session.id

    def _session_id(self, refused: str | None = None) -> str:
        """The session to call with: logged in if there is none, or if ``refused`` is still the current one
        (threads sharing the session whose call was refused log in once, not once each)."""
        with self._session.lock:
            if self._session.id is None or self._session.id == refused:
                self._login()
            return self._session.id

    def logout(self) -> None:
        if self.session_id:
            with contextlib.suppress(IntegrationError):  # a failed logout: the session ends by itself
                self.invoke("logout", lambda: self.login_service.logout(sessionID=self.session_id))
            self._session.id = None

    def fault_error(self, fault, operation, *, once=False):
        message = fault.message or ""
        if "invalid session" in message.lower():
            return _SessionRefused(message, code="session")
        if "login failed" in message.lower():
            return AuthError(f"The {SYSTEM} refused our login: {message} Check BENEFITS_ADMIN_USERNAME and BENEFITS_ADMIN_PASSWORD.", code="login")
        code, _, rest = message.partition(":")
        if code in ERRORS and code != "System_Error":
            return ERRORS[code](rest.strip(), code=code)
        return super().fault_error(fault, operation, once=once)

    # --- calls ----------------------------------------------------------------------------------
    def _once(self, operation: str, kwargs: dict):
        """One call with the session, logging in first if needed and once more on a session fault
        (a refused session did nothing, so even a create is repeated then)."""

        def send(session_id):
            return self.invoke(
                operation,
                lambda: getattr(self.service, operation)(**kwargs, _soapheaders=[self.header(sessionId=session_id)]),
                once=operation in CREATES,
            )

        session_id = self._session_id()
        try:
            return send(session_id)
        except _SessionRefused:
            pass
        try:
            return send(self._session_id(refused=session_id))
        except _SessionRefused as exc:
            raise SessionExpired(f"The {SYSTEM} refused a new session too: {exc.message}", code="session") from exc

    def call(self, operation: str, **kwargs):
        """A read or an update (the base's quick retries apply); returns plain data."""
        return _plain(serialize_object(self._once(operation, kwargs)))

    @staticmethod
    def _result(result: dict) -> int | None:
        if result.get("success"):
            return result.get("ID")
        errors = result.get("errors") or [{"errorCode": "Application_Error", "message": "no reason given"}]
        code = errors[0].get("errorCode") or "Application_Error"
        message = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors)
        raise ERRORS.get(code, BenefitPointResultError)(message, code=code)

    def _create(self, operation: str, record: dict, find_existing) -> int:
        """Create once: after a failed or lost response, ``find_existing()`` says whether it was made all the same."""
        try:
            return self._result(self.call(operation, **record))
        except (TransientError, DuplicateRecord) as exc:
            existing = find_existing()
            if existing is None:
                raise
            log.info("%s %s: response lost (%s); found the record %s by its marker", SYSTEM, operation, exc.message, existing)
            return existing

    # --- operations -----------------------------------------------------------------------------
    def find_accounts(self, name_match: str = "") -> list[dict]:
        return self.call("findAccounts", criteria={"accountNameMatch": name_match or None}) or []

    def get_account(self, account_id: int) -> dict:
        return self.call("getAccount", accountID=account_id)

    def find_account_contacts(self, account_id: int) -> list[dict]:
        return self.call("findAccountContacts", accountID=account_id) or []

    def get_account_contact(self, contact_id: int) -> dict:
        return self.call("getAccountContact", contactID=contact_id)

    def find_products(self, account_id: int, since: datetime | None = None) -> list[dict]:
        return self.call("findProducts", criteria={"accountID": account_id, "sinceLastModifiedOn": since}) or []

    def get_product(self, product_id: int) -> dict:
        return self.call("getProduct", productID=product_id)

    def find_product_by_marker(self, account_id: int, marker: str, since: datetime | None = None) -> int | None:
        """The product of ``account_id`` whose ``planInfo.alternativePlanID`` is ``marker`` (looked at since ``since``)."""
        for summary in self.find_products(account_id, since):
            product = self.get_product(summary["productID"])
            if (product.get("planInfo") or {}).get("alternativePlanID") == marker:
                return product["productID"]
        return None

    def create_product(self, product: dict) -> int:
        """Create a product stamped with our marker; returns its id, and never makes a second one."""
        marker = (product.get("planInfo") or {}).get("alternativePlanID")
        if not marker:
            raise ValueError("a product is created with planInfo.alternativePlanID set to AgencyDesk's plan key")
        started = datetime.now().astimezone() - timedelta(minutes=10)  # generous: our clock and theirs differ
        return self._create("createProduct", {"product": product}, lambda: self.find_product_by_marker(product["accountID"], marker, started))

    def update_product(self, product: dict) -> int:
        return self._result(self.call("updateProduct", product=product))

    def find_rates(self, product_id: int) -> list[dict]:
        return self.call("findRates", productID=product_id) or []

    def get_rate(self, rate_id: int) -> dict:
        return self.call("getRate", rateID=rate_id)

    def create_rate(self, rate: dict) -> int:
        """The product's rate; AgencyDesk keeps one per product, so an existing one is the lost create."""

        def existing():
            rates = self.find_rates(rate["productID"])
            return rates[0]["rateID"] if rates else None

        return self._create("createRate", {"rate": rate}, existing)

    def update_rate(self, rate: dict) -> int:
        return self._result(self.call("updateRate", rate=rate))

    def find_changes(self, since: datetime, types: list[str] | None = None) -> dict:
        return self.call("findChanges", criteria={"sinceLastModifiedOn": since, "typesToInclude": types or None})

    def product_types(self) -> list[dict]:
        return self.call("getProductTypes") or []

    def carriers(self) -> list[dict]:
        return self.call("getAvailableCarriers") or []


def benefitpoint_client() -> BenefitPointClient:
    """A client configured from settings (the sandbox unless BENEFITS_ADMIN_URL says otherwise)."""
    endpoint = settings.BENEFITS_ADMIN_URL or f"{settings.SANDBOX_URL.rstrip('/')}/benefitpoint/services"
    return BenefitPointClient(
        wsdl_url=settings.BENEFITS_ADMIN_WSDL_URL or f"{endpoint}/BrokerConnectV4?wsdl",
        endpoint=endpoint,
        username=settings.BENEFITS_ADMIN_USERNAME,
        password=settings.BENEFITS_ADMIN_PASSWORD,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT,
        read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
        retry=retry_policy(),
        pool_size=settings.INTEGRATIONS_POOL_SIZE,
    )
