"""The benefits-administration system (BenefitPoint BrokerConnect v4) over SOAP, through zeep and the
WSDL the system serves. Returns plain data in the far side's own names; plansync decides what it means.

- One session per run: ``with benefitpoint_client() as client:`` logs in on the first call and out
  at the end; a session fault logs in again once and repeats the call. ``fork()`` hands the same
  session to another thread (reads made a few at a time), with its own count of calls.
- Reads and updates (which set values, so repeating one is harmless) are retried on faults with
  backoff. A create never is, blindly: every create carries a marker we control
  (``planInfo.alternativePlanID``) and, after a lost or failed response, the client looks the
  marker up before trying again, so a lost response never makes a second record.
- ``Result`` errors become typed exceptions per ``errorCode``; transport faults ``TransientError``.
"""
import contextlib
import copy
import logging
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import requests
import zeep
from django.conf import settings
from zeep.cache import InMemoryCache
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.transports import Transport

from ..http import IntegrationError, RejectedError, RetryPolicy, TransientError

log = logging.getLogger(__name__)
NS = "http://ws.benefitpoint.com/common/v3"
SYSTEM = "benefits-admin system"


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


class _Session:
    """The login a client and its forks share: its id, the logins made, one login at a time."""

    def __init__(self):
        self.id: str | None = None
        self.logins = 0
        self.lock = threading.Lock()


ERRORS = {"Access_Error": AccessDenied, "Application_Error": ApplicationFailure, "Duplicate_Error": DuplicateRecord,
          "Validation_Error": ValidationFailure, "System_Error": SystemFailure}

_local = threading.local()


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


def _zeep_client(wsdl_url: str, session: requests.Session, timeout: tuple[float, float]) -> zeep.Client:
    # The parsed WSDL is kept per thread: a run makes many clients, the WSDL is fetched once.
    cache = getattr(_local, "clients", None)
    if cache is None:
        cache = _local.clients = {}
    key = (wsdl_url, timeout)
    if key not in cache:
        transport = Transport(session=session, timeout=timeout[1], operation_timeout=timeout, cache=InMemoryCache())
        cache[key] = zeep.Client(wsdl_url, transport=transport)
    return cache[key]


class BenefitPointClient:
    system = SYSTEM

    def __init__(self, *, wsdl_url: str, endpoint: str, username: str, password: str, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0, retry: RetryPolicy | None = None, trust_env: bool = False):
        self.endpoint, self.username, self.password = endpoint.rstrip("/"), username, password
        self.retry = retry or RetryPolicy()
        self.calls = 0  # SOAP calls made, logins and retries included
        self._session = _Session()
        try:
            client = _zeep_client(wsdl_url, requests.Session(), (connect_timeout, read_timeout))
        except (requests.RequestException, TransportError, XMLSyntaxError) as exc:
            raise TransientError(f"The {SYSTEM}'s WSDL could not be loaded from {wsdl_url}: {exc}", code="wsdl") from exc
        client.transport.session.trust_env = trust_env
        self.header = client.get_element(f"{{{NS}}}SessionIdHeader")
        self.login_service = client.create_service(f"{{{NS}}}LoginServiceBinding", f"{self.endpoint}/LoginService")
        self.service = client.create_service(f"{{{NS}}}BrokerConnectV4Binding", f"{self.endpoint}/BrokerConnectV4")

    def fork(self) -> "BenefitPointClient":
        """A client for another thread: the same session (one login serves every thread), its own count of calls."""
        twin = copy.copy(self)
        twin.calls = 0
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
        self.calls += 1
        self._session.logins += 1
        try:
            self._session.id = self.login_service.login(username=self.username, password=self.password)
        except Fault as exc:
            if "login failed" in (exc.message or "").lower():
                raise RejectedError(f"The {SYSTEM} refused our login: {exc.message} Check BENEFITS_ADMIN_USERNAME and "
                                    "BENEFITS_ADMIN_PASSWORD.", code="login") from exc
            raise TransientError(f"The {SYSTEM} could not log us in: {exc.message}", code="fault") from exc
        except (requests.RequestException, TransportError) as exc:
            raise TransientError(f"The {SYSTEM} could not be reached at {self.endpoint}: {exc}", code="connection") from exc
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
            self.calls += 1
            with contextlib.suppress(Fault, requests.RequestException, TransportError):
                self.login_service.logout(sessionID=self.session_id)  # a failed logout: the session ends by itself
            self._session.id = None

    # --- the call loop --------------------------------------------------------------------------
    def _once(self, operation: str, kwargs: dict):
        """One call with the session, logging in first if needed and once more on a session fault."""
        relogged, refused = False, None
        while True:
            session_id = self._session_id(refused)
            self.calls += 1
            try:
                return getattr(self.service, operation)(**kwargs, _soapheaders=[self.header(sessionId=session_id)])
            except Fault as exc:
                message = exc.message or ""
                if "invalid session" in message.lower():
                    if relogged:
                        raise SessionExpired(f"The {SYSTEM} refused a new session too: {message}", code="session") from exc
                    refused, relogged = session_id, True
                    continue
                code = message.split(":", 1)[0]
                if code in ERRORS and code != "System_Error":
                    raise ERRORS[code](message.split(":", 1)[1].strip(), code=code) from exc
                raise TransientError(f"The {SYSTEM} answered with a fault: {message}", status=500, code="fault") from exc
            except requests.Timeout as exc:
                raise TransientError(f"The {SYSTEM} did not answer in time.", code="timeout") from exc
            except (requests.RequestException, TransportError) as exc:
                raise TransientError(f"The {SYSTEM} could not be reached at {self.endpoint}: {exc}", code="connection") from exc

    def call(self, operation: str, **kwargs):
        """A read or an update: retried on transient faults with backoff; returns plain data."""
        tries = max(1, self.retry.attempts)
        for attempt in range(1, tries + 1):
            try:
                return _plain(serialize_object(self._once(operation, kwargs)))
            except TransientError as exc:
                exc.attempts = attempt
                if attempt == tries:
                    exc.message = f"{exc.message} (gave up after {attempt} tries)"
                    raise
                log.info("%s %s: %s; retry %d", SYSTEM, operation, exc.message, attempt)
                time.sleep(self.retry.delay(attempt - 1))

    @staticmethod
    def _result(result: dict) -> int | None:
        if result.get("success"):
            return result.get("ID")
        errors = result.get("errors") or [{"errorCode": "Application_Error", "message": "no reason given"}]
        code = errors[0].get("errorCode") or "Application_Error"
        message = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors)
        raise ERRORS.get(code, BenefitPointResultError)(message, code=code)

    def _create(self, operation: str, record: dict, find_existing) -> int:
        """Create once: after a failed or lost response, ``find_existing()`` is asked before any retry."""
        tries = max(1, self.retry.attempts)
        for attempt in range(1, tries + 1):
            try:
                return self._result(_plain(serialize_object(self._once(operation, record))))
            except (TransientError, DuplicateRecord) as exc:
                existing = find_existing()
                if existing is not None:
                    log.info("%s %s: response lost (%s); found the record %s by its marker", SYSTEM, operation, exc.message, existing)
                    return existing
                if isinstance(exc, DuplicateRecord) or attempt == tries:
                    exc.attempts = attempt
                    raise
                time.sleep(self.retry.delay(attempt - 1))

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
        return self._create("createProduct", {"product": product},
                            lambda: self.find_product_by_marker(product["accountID"], marker, started))

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
        wsdl_url=settings.BENEFITS_ADMIN_WSDL_URL or f"{endpoint}/BrokerConnectV4?wsdl", endpoint=endpoint,
        username=settings.BENEFITS_ADMIN_USERNAME, password=settings.BENEFITS_ADMIN_PASSWORD,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT, read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
        retry=RetryPolicy(attempts=settings.INTEGRATIONS_RETRY_ATTEMPTS, backoff=settings.INTEGRATIONS_RETRY_BACKOFF),
    )
