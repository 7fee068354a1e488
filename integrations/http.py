"""The client base every outside system's client builds on, REST and SOAP (``integrations.clients.soap``
puts zeep's transport on it): real HTTP over ``requests``.

Connect and read timeouts; a bounded connection pool per process shared by the clients; retries
(urllib3's ``Retry``, see ``RetryPolicy``) with exponential backoff and jitter on 5xx, timeouts,
connection errors and 429 (honouring Retry-After); an ``Idempotency-Key`` on writes so a retried
write is applied once; failures raised as typed exceptions carrying the platform's own message. This
is the one retry policy, and urllib3's the one retry loop, but for a SOAP read's fault (an answer,
HTTP 500, that only the fault inside tells apart: ``SoapClient.invoke`` tries those again, with
this policy's tries and backoff).
"""

import logging
import os
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)


class IntegrationError(Exception):
    """An outside system did not do what was asked. ``message`` is fit to show to staff."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        fields: dict | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message, self.status, self.code, self.fields, self.attempts = message, status, code, fields or {}, attempts
        self.retry_after = retry_after  # seconds the system asked us to wait (Retry-After), when it said

    def __str__(self):
        return self.message


class TransientError(IntegrationError):
    """Unavailable, too slow, or rate limited, still after every retry: trying again later may work."""


class RejectedError(IntegrationError):
    """The system understood the request and refused it (4xx): the data must change first."""


class NotFoundError(RejectedError):
    """The object asked for does not exist there (404)."""


class AuthError(RejectedError):
    """Our credentials were refused (401/403): a setting is wrong."""


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy of every integration client, in two tiers.

    Within a call (urllib3 ``Retry`` under the client's session): a few quick tries on 5xx, 429
    (honouring Retry-After up to ``max_retry_after``), timeouts and connection errors. Across calls
    (``next_try``): a sync whose call still failed transiently is scheduled again -- by its task's
    countdown, never by sleeping in a worker -- with exponential backoff up to ``later_max_backoff``,
    until ``window`` seconds after its first failure; only then does it fail.
    """

    attempts: int = 4  # tries in all within one call, including the first
    backoff: float = 0.25  # seconds; the n-th quick retry waits about backoff * 2**n
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    window: float = 30 * 60.0  # seconds a failing sync keeps being tried again, from its first failure
    later_backoff: float = 10.0
    later_max_backoff: float = 5 * 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds before the ``retry``-th quick retry (0-based): Retry-After when given, else full jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**retry))

    def next_try(self, *, tries: int, since: datetime, now: datetime, retry_after: float | None = None) -> datetime | None:
        """When to try again after ``tries`` tries that failed transiently since ``since``; None once the window is over.

        Backoff doubles from ``later_backoff`` (jittered between half and all of it, so a crowd of syncs
        failed by one outage does not come back at the same second); the last try is at the window's end.
        A Retry-After is honoured in full, even past the window's end (the system said when to come back).
        """
        end = since + timedelta(seconds=self.window)
        if now >= end:
            return None
        wait = min(self.later_max_backoff, self.later_backoff * 2 ** max(0, tries - 1))
        at = min(now + timedelta(seconds=random.uniform(wait / 2, wait)), end)
        return max(at, now + timedelta(seconds=retry_after)) if retry_after else at

    def urllib3_retry(self, *, statuses: frozenset | None = None, repeatable: bool = True) -> Retry:
        """The quick tries of one call, as urllib3 makes them under the pooled session.

        ``statuses``: the answers tried again (default: 429 and every 5xx). ``repeatable=False`` for a
        request the far side may not receive twice (a SOAP write, which has no idempotency key): only
        what surely did not reach it is tried again -- a connection that failed, and ``statuses``.
        """
        return _Retry(
            total=max(0, self.attempts - 1),
            connect=None,
            read=None if repeatable else 0,
            redirect=0,
            other=0,
            status_forcelist=RETRY_STATUSES if statuses is None else statuses,
            allowed_methods=None,  # every method: REST writes carry idempotency keys, SOAP writes pass repeatable=False
            backoff_factor=self.backoff,
            backoff_max=self.max_backoff,
            backoff_jitter=self.backoff,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
            max_retry_after=self.max_retry_after,
        )


def retry_policy() -> RetryPolicy:
    """The policy from settings (``INTEGRATIONS_RETRY_*``): what every integration client and sync uses."""
    from django.conf import settings

    return RetryPolicy(
        attempts=settings.INTEGRATIONS_RETRY_ATTEMPTS,
        backoff=settings.INTEGRATIONS_RETRY_BACKOFF,
        window=settings.INTEGRATIONS_RETRY_WINDOW_SECONDS,
        later_backoff=settings.INTEGRATIONS_RETRY_LATER_SECONDS,
        later_max_backoff=settings.INTEGRATIONS_RETRY_LATER_MAX_SECONDS,
    )


RETRY_STATUSES = frozenset({429, *range(500, 600)})
# What says "not done, try again" whatever the protocol: a 500 is not in it, since SOAP answers every fault
# with a 500 and the fault, not the status, says whether trying again can help.
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})
NOT_RECEIVED_STATUSES = frozenset({429, 503})  # ... and what says the request was not taken in at all


class _Retry(Retry):
    """urllib3's ``Retry`` with a cap on how long a Retry-After may hold a call."""

    def __init__(self, *args, max_retry_after: float = 30.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kwargs):
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)


_adapters: dict[tuple, HTTPAdapter] = {}
_adapters_lock = threading.Lock()


def _adapter(retry: RetryPolicy, pool_size: int, statuses: frozenset = RETRY_STATUSES, repeatable: bool = True) -> HTTPAdapter:
    """One connection pool per process, retry policy (and what it retries) and size, shared by every client
    (and thread) using it.

    ``pool_block``: a thread past ``pool_size`` waits for a connection instead of opening another,
    so a threads worker never holds more than ``pool_size`` connections per host.
    """
    key = (os.getpid(), retry, pool_size, statuses, repeatable)  # a forked pool process builds its own
    with _adapters_lock:
        adapter = _adapters.get(key)
        if adapter is None:
            adapter = _adapters[key] = HTTPAdapter(
                pool_connections=4, pool_maxsize=pool_size, pool_block=True, max_retries=retry.urllib3_retry(statuses=statuses, repeatable=repeatable)
            )
        return adapter


def pooled_session(
    retry: RetryPolicy,
    *,
    pool_size: int = 10,
    trust_env: bool = False,
    statuses: frozenset = RETRY_STATUSES,
    repeatable: bool = True,
    session: requests.Session | None = None,
) -> requests.Session:
    """A ``requests`` session on the shared pool: the policy's quick retries, our User-Agent, no proxy
    variables or ~/.netrc unless trusted (they are read on every request when trusted: opt in by setting)."""
    session = session or requests.Session()
    adapter = _adapter(retry, pool_size, statuses, repeatable)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = trust_env
    session.headers["User-Agent"] = "AgencyDesk"
    session.repeatable = repeatable  # read by Client._send: a timed-out request of this session was not tried again
    return session


@dataclass
class Response:
    status: int
    data: dict
    attempts: int


class Client:
    """The base of every outside system's client: one HTTP exchange at a time over the shared pool.

    REST clients (JSON over HTTP) subclass it and add one method per call on ``request``; SOAP clients
    build on ``integrations.clients.soap.SoapClient``, which puts zeep's transport on the same
    ``_send``. Either way: the connect and read timeouts, the quick retries of the one ``RetryPolicy``
    (by urllib3, under the session), failures raised as typed errors with the far side's message, and
    ``calls`` / ``last_status`` counting every HTTP request made, retries included.

    Clients are cheap: make one per task. Their connections come from a pool shared in the process
    (``pool_size`` per host), so a threads worker reuses them.
    """

    system = "outside system"
    statuses = RETRY_STATUSES  # the answers urllib3 tries again within a call

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        trust_env: bool = False,
        pool_size: int = 10,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.pool_size, self.trust_env = pool_size, trust_env
        self.calls = 0  # HTTP requests made, retries included (the sync history shows it)
        self.last_status: int | None = None
        self.session = pooled_session(self.retry, pool_size=pool_size, trust_env=trust_env, statuses=self.statuses, session=session)
        self.session.headers["Accept"] = "application/json"
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    @staticmethod
    def new_idempotency_key() -> str:
        return uuid.uuid4().hex

    def request(
        self, method: str, path: str, *, json: dict | None = None, params: dict | None = None, idempotency_key: str | None = None
    ) -> Response:
        """One logical call, retried on transient faults (``RetryPolicy``). Writes always carry an idempotency key."""
        headers = {}
        if method.upper() != "GET":
            headers["Idempotency-Key"] = idempotency_key or self.new_idempotency_key()
        reply, attempts = self._send(method, f"{self.base_url}/{path.lstrip('/')}", json=json, params=params, headers=headers)
        if reply.status_code < 400:
            return Response(reply.status_code, self._json(reply), attempts)
        raise self._status_error(reply, attempts, method, path)

    def _send(self, method: str, url: str, *, session: requests.Session | None = None, **kwargs) -> tuple[requests.Response, int]:
        """One HTTP exchange through the pooled session (``session``: another pooled one, e.g. for writes
        that must not be repeated), with the client's timeouts; counted in ``calls`` and ``last_status``.
        Returns the reply, whatever its status, and the tries it took; raises a typed error when no reply came."""
        session = session or self.session
        repeatable = getattr(session, "repeatable", True)
        tries = max(1, self.retry.attempts)
        try:
            reply = session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:  # retries exhausted (urllib3 wraps the last fault)
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            timed_out = isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError)
            error = self._unanswered(timed_out)
            error.attempts = 1 if timed_out and not repeatable else tries  # a read that may have reached it: tried once
            self.calls += error.attempts
            raise self._gave_up(error, method, url) from exc
        except requests.Timeout as exc:
            error = self._unanswered(True)
            error.attempts = 1 if not repeatable else tries
            self.calls += error.attempts
            raise self._gave_up(error, method, url) from exc
        except requests.RequestException as exc:  # a bad URL or the like: a setting to fix, not worth a retry
            self.calls += 1
            # The address stays in the log: what staff and API clients see never names an internal URL.
            log.warning("%s %s %s could not be called: %s", self.system, method, url, exc)
            raise IntegrationError(
                f"The {self.system} could not be called (its address in the settings is not usable; the details are in the log).",
                code="request",
                attempts=1,
            ) from exc
        history = getattr(getattr(reply.raw, "retries", None), "history", ()) or ()
        attempts = len(history) + 1
        self.calls += attempts
        self.last_status = reply.status_code
        return reply, attempts

    def _unanswered(self, timed_out: bool) -> TransientError:
        if timed_out:
            return TransientError(f"The {self.system} did not answer within {self.timeout[1]:g} s.", code="timeout")
        log.warning("The %s could not be reached at %s.", self.system, self.base_url)
        return TransientError(f"The {self.system} could not be reached; try again later.", code="connection")

    def _status_error(self, reply: requests.Response, attempts: int, method: str, path: str) -> IntegrationError:
        """An HTTP error status as a typed error with the far side's message (transient ones: after how many tries)."""
        error = self._error(reply)
        error.attempts = attempts
        if isinstance(error, TransientError):
            error.retry_after = self._retry_after(reply)
            return self._gave_up(error, method, path)
        return error

    def _gave_up(self, error: IntegrationError, method: str, path: str) -> IntegrationError:
        log.info("%s %s %s: %s after %d tries", self.system, method, path, error.message, error.attempts)
        if error.attempts > 1:
            error.message = f"{error.message} (gave up after {error.attempts} tries)"
        return error

    @staticmethod
    def _json(reply: requests.Response) -> dict:
        try:
            data = reply.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {"results": data}

    def _error(self, reply: requests.Response) -> IntegrationError:
        body = self._json(reply)
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        message = str(error.get("message") or error.get("detail") or reply.reason or "no message")
        kwargs = {"status": reply.status_code, "code": str(error.get("code", "")), "fields": error.get("fields") or {}}
        status = reply.status_code
        if status == 429 or status >= 500:
            return TransientError(f"The {self.system} answered {status}: {message}", **kwargs)
        if status == 404:
            return NotFoundError(message, **kwargs)
        if status in (401, 403):
            return AuthError(f"The {self.system} refused our credentials: {message}", **kwargs)
        return RejectedError(message, **kwargs)

    @staticmethod
    def _retry_after(reply: requests.Response) -> float | None:
        value = reply.headers.get("Retry-After")
        try:
            return max(0.0, float(value)) if value else None
        except ValueError:
            return None  # an HTTP date: fall back to our own backoff
