"""The SOAP side of the one client base: zeep's transport on ``integrations.http.Client``.

A ``SoapClient`` is a ``Client`` (the same pooled session, timeouts, ``calls`` / ``last_status``)
whose requests zeep builds: every WSDL fetch and every operation goes through ``Client._send``, so
the quick retries are urllib3's, from the one ``RetryPolicy``; the one loop here (faults on reads,
below) takes its tries and backoff from the same policy.

What is tried again within a call differs from REST in one way, on purpose. SOAP answers every
fault with HTTP 500, so a 500 is read, not retried by urllib3: the fault says what it is (a ``Client``
fault: our request was refused; a ``Server`` fault: theirs, transient). What says "not done" (429,
502-504, a connection that failed) is tried again at once. A transient fault on one of the
operations a subclass names in ``reads`` (they change nothing there) is tried again here, within the
call, as often and with the same backoff as urllib3's quick retries (the same ``RetryPolicy``); on
anything else it is left to the sync's own schedule (``RetryPolicy.next_try``). A write the far side
has no idempotency key for (``once=True``) is never sent twice: only what surely did not reach it (a
failed connection, 429, 503) is tried again.

Subclasses name the system, the operations that are writes and how its faults map to the typed
errors (``fault_error``); they keep the far side's session handling (log in again once on a
session fault) and return plain data.
"""

import logging
import threading
import time

import zeep
from lxml.etree import XMLSyntaxError
from zeep import Settings
from zeep.exceptions import Fault, TransportError, XMLParseError
from zeep.transports import Transport
from zeep.wsdl import Document

from ..http import (
    NOT_RECEIVED_STATUSES,
    UNAVAILABLE_STATUSES,
    Client,
    IntegrationError,
    RejectedError,
    TransientError,
    pooled_session,
)

log = logging.getLogger(__name__)

# Safe XML: no DTDs, no entities, no external fetches.
SETTINGS = Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False)
_documents: dict[str, Document] = {}
_documents_lock = threading.Lock()


class SoapTransport(Transport):
    """zeep's transport, sending through its client's pooled sessions and typing HTTP errors like REST's."""

    def __init__(self, client: "SoapClient"):
        super().__init__(session=client.session, timeout=client.timeout[1], operation_timeout=client.timeout[1])
        self.session.adapters.pop("file://", None)  # zeep mounts local files; a WSDL comes over HTTP
        self.session.headers["User-Agent"] = "AgencyDesk"
        self.client = client

    def post(self, address, message, headers):
        client = self.client
        session = client.write_session if client.sending_once else client.session
        reply, attempts = client._send("POST", address, data=message, headers=headers, session=session)
        if reply.status_code >= 400 and not (reply.status_code == 500 and b"Envelope" in reply.content[:2000]):
            raise client._status_error(reply, attempts, "POST", address)  # not a SOAP fault: a gateway, a proxy
        return reply

    def _load_remote_data(self, url):
        reply, attempts = self.client._send("GET", url)
        if reply.status_code >= 400:
            raise self.client._status_error(reply, attempts, "GET", url)
        return reply.content


class SoapClient(Client):
    """A SOAP service from its served WSDL (parsed once per process and URL)."""

    statuses = UNAVAILABLE_STATUSES
    reads: frozenset[str] = frozenset()  # operations that change nothing there: a transient fault is tried again at once

    def __init__(self, *, wsdl_url: str, base_url: str, **kwargs):
        super().__init__(base_url=base_url, **kwargs)
        self.wsdl_url = wsdl_url
        self.session.headers.pop("Accept", None)
        self.sending_once = False
        self._connect()

    def _connect(self) -> None:
        """Sessions and a zeep client of this instance's own (a ``fork`` for another thread calls it again)."""
        self.session = pooled_session(self.retry, pool_size=self.pool_size, trust_env=self.trust_env, statuses=self.statuses)
        self.write_session = pooled_session(
            self.retry, pool_size=self.pool_size, trust_env=self.trust_env, statuses=NOT_RECEIVED_STATUSES, repeatable=False
        )
        self.transport = SoapTransport(self)
        self.zeep = zeep.Client(self._document(), transport=self.transport, settings=SETTINGS)

    def _document(self) -> Document:
        with _documents_lock:
            document = _documents.get(self.wsdl_url)
            if document is None:
                try:
                    document = Document(self.wsdl_url, self.transport, settings=SETTINGS)
                except TransientError as exc:
                    log.warning("The %s's WSDL could not be loaded from %s: %s", self.system, self.wsdl_url, exc.message)
                    exc.message = f"The {self.system}'s WSDL could not be loaded: {exc.message}"
                    raise
                except (TransportError, XMLSyntaxError, XMLParseError) as exc:
                    log.warning("The %s's WSDL could not be loaded from %s: %s", self.system, self.wsdl_url, exc)
                    raise TransientError(f"The {self.system}'s WSDL could not be loaded (the details are in the log).", code="wsdl") from exc
                _documents[self.wsdl_url] = document
            return document

    def invoke(self, operation: str, call, *, once: bool = False):
        """``call()`` (a zeep operation) with faults and unreadable answers raised as typed errors.
        ``once``: a write that must not reach the system twice (see the module's docstring). One of
        ``reads`` is called again on a transient fault, up to the policy's ``attempts`` in all."""
        tries = max(1, self.retry.attempts) if operation in self.reads and not once else 1
        for retry in range(tries):
            try:
                return self._invoke_once(operation, call, once=once)
            except TransientError as exc:
                if exc.code != "fault" or retry + 1 == tries:
                    if exc.code == "fault" and tries > 1:
                        exc.attempts = tries
                        self._gave_up(exc, "POST", operation)
                    raise
            time.sleep(self.retry.delay(retry))
        raise AssertionError("unreachable")  # pragma: no cover

    def _invoke_once(self, operation: str, call, *, once: bool):
        self.sending_once = once
        try:
            return call()
        except Fault as exc:
            raise self.fault_error(exc, operation, once=once) from exc
        except (TransportError, XMLSyntaxError, XMLParseError) as exc:
            raise TransientError(
                f"The {self.system} answered {operation} with something that is not SOAP: {exc}", status=self.last_status, code="not_soap"
            ) from exc
        finally:
            self.sending_once = False

    def fault_error(self, fault: Fault, operation: str, *, once: bool = False) -> IntegrationError:
        """A fault as a typed error with the system's message: ``Client`` (``Sender``) faults are refusals,
        the rest (``Server``: the system failed) transient."""
        message = fault.message or "no message"
        if (fault.code or "").rsplit(":", 1)[-1] in ("Client", "Sender"):
            return RejectedError(message, status=500, code="fault")
        return TransientError(f"The {self.system} answered with a fault: {message}", status=500, code="fault")
