"""Throttles whose check costs one cache round trip of two small counters, whatever the rate.

DRF's own throttles keep the time of every request of the last period in one cache entry, read and
written whole on each request: at 1,200 requests a minute that is a list of 1,200 floats, pickled on
every API call. Here each client has a counter per window of ``duration`` seconds, and the rate is
the sliding-window estimate ``previous window x (share of it still inside the period) + this
window`` (the approximation Cloudflare and others use; no cliff at a window's end). On Redis the
check is one pipeline (``INCR``, ``EXPIRE``, ``GET``); on another cache, its own calls. A refused
request is not counted, as in DRF. Rates are read from the settings on each request (DRF's classes
read them once, at import), so a changed setting applies at once.
"""

import contextlib
import functools
import math
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from core.net import client_address


@functools.cache
def _redis(pool):
    """One client per connection pool: Django's cache builds a new one (and its table of ~200 reply
    callbacks) for every call."""
    return caches["default"]._cache._client(connection_pool=pool)


def _count(key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Add one to the counter ``key`` (kept ``timeout`` seconds); (its new value, ``previous_key``'s)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        key, previous_key = cache.make_and_validate_key(key), cache.make_and_validate_key(previous_key)
        pipe = _redis(cache._cache._get_connection_pool(True)).pipeline(transaction=False)
        current, _, previous = pipe.incr(key).expire(key, timeout).get(previous_key).execute()
        return current, int(previous or 0)
    cache.add(key, 0, timeout)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout)
        current = 1
    return current, int(cache.get(previous_key) or 0)


def _uncount(key: str) -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile
        caches["default"].decr(key)


class FixedWindowThrottle(SimpleRateThrottle):
    """A ``SimpleRateThrottle`` counted in windows (see the module's docstring); subclasses give the key."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        return client_address(request)

    def _keys(self) -> tuple[str, str]:
        window, self.elapsed = divmod(self.timer(), self.duration)
        return f"{self.key}:{int(window)}", f"{self.key}:{int(window) - 1}"

    def _over(self, current: int) -> bool:
        return self.previous * (1 - self.elapsed / self.duration) + current > self.num_requests

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key, previous_key = self._keys()
        current, self.previous = _count(key, previous_key, 2 * self.duration)
        if not self._over(current):
            return True
        _uncount(key)
        self.current = current - 1
        return False

    def wait(self):
        """Seconds until one more request would be allowed (the estimate falls as the previous window slides out)."""
        room = self.num_requests - self.current - 1
        if room >= 0:  # later in this window
            seconds = self.duration * (1 - room / self.previous) - self.elapsed if self.previous else 0.0
        else:  # this window is full: into the next one, where this window's count slides out in turn
            seconds = self.duration - self.elapsed + max(0.0, self.duration * (1 - (self.num_requests - 1) / self.current))
        return round(max(0.0, seconds), 3)  # no 20.000000000000004 (a Retry-After of 21)


class FailureThrottle(FixedWindowThrottle):
    """Counts only what ``count_failure`` reports (a refused login), and refuses once those reach the rate:
    a request that succeeds costs nothing, so people who know their password are never throttled."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        key, previous_key = self._keys()
        cache = caches["default"]
        self.current, self.previous = int(cache.get(key) or 0), int(cache.get(previous_key) or 0)
        return not self._over(self.current + 1)

    def count_failure(self, request) -> None:
        if self.rate is None:
            return
        self.key = self.get_cache_key(request, None)
        key, previous_key = self._keys()
        _count(key, previous_key, 2 * self.duration)


class ScopedThrottle(ScopedRateThrottle, FixedWindowThrottle):
    """DRF's ``ScopedRateThrottle`` (the view's ``throttle_scope``, per user or address), counted in windows."""


def rate_take(key: str, *, limit: int, period: int, now: float | None = None) -> float | None:
    """Count one use under ``key`` against ``limit`` per ``period`` seconds, by the same sliding window as
    the throttles (no reset at the clock's hour). None when allowed; else the seconds to wait (not counted)."""
    window, elapsed = divmod(time.time() if now is None else now, period)
    current_key = f"{key}:{int(window)}"
    current, previous = _count(current_key, f"{key}:{int(window) - 1}", 2 * period)
    if previous * (1 - elapsed / period) + current <= limit:
        return None
    _uncount(current_key)
    # the previous window's share slides out linearly: wait until one more use fits
    room = limit - (current - 1) - 1
    wait = period * (1 - room / previous) - elapsed if room >= 0 and previous else period - elapsed
    return max(1.0, wait)


def retry_after(throttle: SimpleRateThrottle) -> int:
    """Whole seconds for a ``Retry-After`` header (at least one)."""
    return max(1, math.ceil(throttle.wait() or 0))
