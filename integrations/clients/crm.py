"""The CRM: upsert by an external reference AgencyDesk controls, so a retried push never duplicates."""

import contextlib

from django.conf import settings

from ..http import Client, NotFoundError, RetryPolicy


class CrmClient(Client):
    system = "CRM"

    def upsert(self, reference: str, record: dict) -> dict:
        """Create or update the one record with this reference (``kind``, ``name``, ``parent_reference``,
        ``is_primary``, ``fields``, ``markers``)."""
        return self.request("PUT", f"/v1/records/{reference}", json=record).data

    def delete(self, reference: str) -> None:
        """Remove a record and the records under it; one that is already gone is fine."""
        with contextlib.suppress(NotFoundError):
            self.request("DELETE", f"/v1/records/{reference}")

    def get(self, reference: str) -> dict | None:
        try:
            return self.request("GET", f"/v1/records/{reference}").data
        except NotFoundError:
            return None


def crm_client() -> CrmClient:
    """A client configured from settings (the sandbox's CRM unless CRM_URL says otherwise)."""
    return CrmClient(
        base_url=settings.CRM_URL or f"{settings.SANDBOX_URL.rstrip('/')}/crm",
        api_key=settings.CRM_API_KEY,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT,
        read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
        retry=RetryPolicy(attempts=settings.INTEGRATIONS_RETRY_ATTEMPTS, backoff=settings.INTEGRATIONS_RETRY_BACKOFF),
    )
