"""The benefits platform employees enrol on: find, create, update, end coverage, get.

Speaks the platform's versioned JSON API (the sandbox's ``/benefits/v1``) and returns plain dicts;
hrsync's services decide what they mean.
"""

from django.conf import settings

from ..http import Client, NotFoundError, retry_policy


class BenefitsPlatformClient(Client):
    system = "benefits platform"

    def packages(self) -> list[dict]:
        return self.request("GET", "/v1/packages").data.get("results", [])

    def find_by_email(self, email: str) -> dict | None:
        """The account using ``email``, or None."""
        results = self.request("GET", "/v1/accounts", params={"email": email}).data.get("results", [])
        return results[0] if results else None

    def get(self, account_id: str) -> dict | None:
        try:
            return self.request("GET", f"/v1/accounts/{account_id}").data
        except NotFoundError:
            return None

    def create(self, account: dict, *, idempotency_key: str) -> dict:
        """Create an account; the same key returns the same account however often it is sent."""
        return self.request("POST", "/v1/accounts", json=account, idempotency_key=idempotency_key).data

    def update(self, account_id: str, changes: dict, *, idempotency_key: str) -> dict:
        return self.request("PATCH", f"/v1/accounts/{account_id}", json=changes, idempotency_key=idempotency_key).data

    def end_coverage(self, account_id: str, end_date: str, *, idempotency_key: str) -> dict:
        return self.request(
            "POST", f"/v1/accounts/{account_id}/end-coverage", json={"coverage_end_date": end_date}, idempotency_key=idempotency_key
        ).data


def benefits_platform_client() -> BenefitsPlatformClient:
    """A client configured from settings (the sandbox unless BENEFITS_PLATFORM_URL says otherwise)."""
    return BenefitsPlatformClient(
        base_url=settings.BENEFITS_PLATFORM_URL,
        api_key=settings.BENEFITS_PLATFORM_API_KEY,
        connect_timeout=settings.INTEGRATIONS_CONNECT_TIMEOUT,
        read_timeout=settings.INTEGRATIONS_READ_TIMEOUT,
        trust_env=settings.INTEGRATIONS_TRUST_ENV,
        retry=retry_policy(),
        pool_size=settings.INTEGRATIONS_POOL_SIZE,
    )
