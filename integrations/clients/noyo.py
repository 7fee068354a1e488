"""The carrier-connection service (Noyo Fulfillment API): group connections, group data, discrepancies.

Speaks Noyo's names (``carrier_group_id``, ``group_data``, ``custom_individual_id``) and returns plain
dicts; carriers' services decide what they mean. Auth is OAuth client credentials: a Bearer token
valid ``expires_in`` milliseconds, cached per process and fetched again shortly before it expires or
when the service says it has expired. Lists are offset-paged (``meta.total_records``) and read page
by page, so a large group never sits in memory at once. Reading is tolerant: fields the client does
not know are ignored, and a status outside the published enum is kept as it came.
"""

import logging
import threading
import time
from collections.abc import Iterator

import requests
from django.conf import settings

from ..http import AuthError, Client, NotFoundError, RetryPolicy

log = logging.getLogger(__name__)

CONNECTION_STATUSES = (
    "created",
    "processing",
    "noyo_review",
    "waiting_on_carrier",
    "carrier_authorization",
    "action_required",
    "unable_to_connect",
    "completed",
)
PAGE_SIZE = 500


def status_label(value: str | None, labels: dict[str, str]) -> str:
    """A status for people: its label, or ``unknown: <value>`` for one the contract does not list."""
    if not value:
        return "unknown: (none)"
    return labels.get(value) or f"unknown: {value}"


class NoyoClient(Client):
    system = "carrier-connection service"
    _tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (base_url, client_id) -> (token, monotonic expiry)
    _token_lock = threading.Lock()

    def __init__(self, *, client_id: str, client_secret: str, **kwargs):
        super().__init__(**kwargs)
        self.client_id, self.client_secret = client_id, client_secret

    # --- auth -----------------------------------------------------------------------------------
    def _token(self, *, fresh: bool = False) -> str:
        key = (self.base_url, self.client_id)
        with self._token_lock:
            token, expires = self._tokens.get(key, ("", 0.0))
            if fresh or not token or time.monotonic() >= expires:
                token, expires = self._fetch_token()
                self._tokens[key] = (token, expires)
            return token

    def _fetch_token(self) -> tuple[str, float]:
        self.calls += 1
        try:
            reply = self.session.post(
                f"{self.base_url}/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            log.warning("The %s could not be reached for a token at %s: %s", self.system, self.base_url, exc)
            raise AuthError(f"The {self.system} could not be reached for a token; try again later.", code="connection") from exc
        if reply.status_code >= 400:
            raise self._error(reply)
        data = self._json(reply)
        lifetime = float(data.get("expires_in") or 0) / 1000  # milliseconds
        # Renew a little early (a tenth of its life, at most a minute) so a call never starts on a dying token.
        return str(data.get("access_token", "")), time.monotonic() + lifetime - min(60.0, lifetime / 10)

    def request(self, method, path, **kwargs):
        self.session.headers["Authorization"] = f"Bearer {self._token()}"
        try:
            return super().request(method, path, **kwargs)
        except AuthError:
            # Expired or revoked before its time: one new token, one more try.
            self.session.headers["Authorization"] = f"Bearer {self._token(fresh=True)}"
            return super().request(method, path, **kwargs)

    # --- group connections ----------------------------------------------------------------------
    def connection_create(self, *, carrier_id: str, group_data: dict, federal_ein: str = "") -> dict:
        body = {"carrier_id": carrier_id, "group_data": group_data}
        if federal_ein:
            body["federal_ein"] = federal_ein
        return self.request("POST", "/api/v1/group_connections", json=body).data

    def connection_get(self, connection_id: str) -> dict:
        return self.request("GET", f"/api/v1/group_connections/{connection_id}").data

    def connections_find(self, *, carrier_id: str, carrier_group_id: str) -> list[dict]:
        """The organisation's connections for one carrier group id at one carrier (a look-up before a create is retried)."""
        return list(self._pages("/api/v1/group_connections", {"carrier_id": carrier_id, "carrier_group_id": carrier_group_id}))

    def connection_retry(self, connection_id: str, amended: dict) -> dict:
        """``PUT .../retry`` with the amended fields (carrier_group_id, federal_ein, broker ids, email)."""
        return self.request("PUT", f"/api/v1/group_connections/{connection_id}/retry", json=amended).data

    # --- group data -----------------------------------------------------------------------------
    def group_get(self, group_id: str) -> dict | None:
        try:
            return self.request("GET", f"/api/v1/groups/{group_id}").data
        except NotFoundError:
            return None

    def _pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        offset = 0
        while True:
            data = self.request("GET", path, params={**(params or {}), "page_size": PAGE_SIZE, "offset": offset}).data
            items = data.get("response") or []
            yield from items
            offset += len(items)
            total = (data.get("meta") or {}).get("total_records")
            if not items or (total is not None and offset >= total) or (total is None and len(items) < PAGE_SIZE):
                return

    def plans(self, group_id: str) -> Iterator[dict]:
        return self._pages(f"/api/v1/groups/{group_id}/plans")

    def enrollments(self, group_id: str) -> Iterator[dict]:
        return self._pages(f"/api/v1/groups/{group_id}/group_enrollments")

    def employees(self, group_id: str) -> Iterator[dict]:
        return self._pages(f"/api/v1/groups/{group_id}/employees")

    # --- discrepancies --------------------------------------------------------------------------
    def discrepancies(self, group_id: str) -> Iterator[dict]:
        return self._pages("/api/v1/discrepancies", {"group_id": group_id})

    def discrepancy_ack(self, discrepancy_id: str) -> dict:
        return self.request("PUT", f"/api/v1/discrepancies/{discrepancy_id}/ack", json={}).data


def noyo_client(*, attempts: int | None = None) -> NoyoClient:
    """A client configured from settings (the sandbox's ``/noyo`` unless NOYO_URL says otherwise).

    ``attempts=1`` for callers that schedule their own retry (the poller honours Retry-After itself).
    """
    return NoyoClient(
        base_url=settings.NOYO_URL or f"{settings.SANDBOX_URL.rstrip('/')}/noyo",
        client_id=settings.NOYO_CLIENT_ID,
        client_secret=settings.NOYO_CLIENT_SECRET,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT,
        read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
        retry=RetryPolicy(attempts=attempts or settings.INTEGRATIONS_RETRY_ATTEMPTS, backoff=settings.INTEGRATIONS_RETRY_BACKOFF),
    )
