"""The client base every outside system's client builds on: real HTTP over ``requests``.

Connect and read timeouts; retries with exponential backoff and full jitter on 5xx, timeouts,
connection errors and 429 (honouring Retry-After); an ``Idempotency-Key`` on writes so a retried
write is applied once; failures raised as typed exceptions carrying the platform's own message.
"""
import logging
import random
import time
import uuid
from dataclasses import dataclass

import requests

log = logging.getLogger(__name__)


class IntegrationError(Exception):
    """An outside system did not do what was asked. ``message`` is fit to show to staff."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", fields: dict | None = None,
                 attempts: int = 1, retry_after: float | None = None):
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
    attempts: int = 4          # tries in all, including the first
    backoff: float = 0.25      # seconds; the n-th retry waits up to backoff * 2**n
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** retry))


@dataclass
class Response:
    status: int
    data: dict
    attempts: int


class Client:
    """A JSON-over-HTTP client for one outside system; subclasses add one method per call."""

    system = "outside system"

    def __init__(self, *, base_url: str, api_key: str = "", connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 retry: RetryPolicy | None = None, session: requests.Session | None = None, trust_env: bool = False):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.calls = 0  # HTTP requests made, retries included (the sync history shows it)
        self.last_status: int | None = None
        self.session = session or requests.Session()
        # Proxy variables and ~/.netrc are read on every request when trusted: opt in by setting.
        self.session.trust_env = trust_env
        self.session.headers.update({"Accept": "application/json", "User-Agent": "AgencyDesk"})
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    @staticmethod
    def new_idempotency_key() -> str:
        return uuid.uuid4().hex

    def request(self, method: str, path: str, *, json: dict | None = None, params: dict | None = None,
                idempotency_key: str | None = None) -> Response:
        """One logical call, retried on transient faults. Writes always carry an idempotency key."""
        headers = {}
        if method.upper() != "GET":
            headers["Idempotency-Key"] = idempotency_key or self.new_idempotency_key()
        url = f"{self.base_url}/{path.lstrip('/')}"
        last: IntegrationError | None = None
        tries = max(1, self.retry.attempts)  # a policy of 0 attempts still makes the call once
        for attempt in range(1, tries + 1):
            retry_after = None
            self.calls += 1
            try:
                reply = self.session.request(method, url, json=json, params=params, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                last = TransientError(f"The {self.system} did not answer within {self.timeout[1]:g} s.", code="timeout")
            except requests.ConnectionError:
                last = TransientError(f"The {self.system} could not be reached at {self.base_url}.", code="connection")
            except requests.RequestException as exc:  # a bad URL or the like: a setting to fix, not worth a retry
                raise IntegrationError(f"The {self.system} could not be called at {self.base_url}: {exc}",
                                       code="request", attempts=attempt) from exc
            else:
                self.last_status = reply.status_code
                if reply.status_code < 400:
                    return Response(reply.status_code, self._json(reply), attempt)
                last = self._error(reply)
                if not isinstance(last, TransientError):
                    last.attempts = attempt
                    raise last
                retry_after = self._retry_after(reply)
            last.attempts = attempt
            if attempt < tries:
                wait = self.retry.delay(attempt - 1, retry_after)
                log.info("%s %s %s: %s; retry %d in %.2fs", self.system, method, path, last.message, attempt, wait)
                time.sleep(wait)
        last.message = f"{last.message} (gave up after {last.attempts} tries)"
        last.retry_after = retry_after
        raise last

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
