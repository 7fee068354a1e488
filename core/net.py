"""The client's address, read one way for the lockout (axes), the throttles and the audit log."""

from django.conf import settings


def client_address(request) -> str:
    """``REMOTE_ADDR``; with ``DJANGO_PROXY_COUNT`` proxies in front, the address the outermost of them saw
    (that many hops back in ``X-Forwarded-For``). Without a proxy count the header is the client's own
    words and is ignored: anyone can send it."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if proxies else ""
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote
