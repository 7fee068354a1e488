"""A minimal WSGI toolkit for the sandbox: requests, JSON responses, routing, fault knobs."""

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

# Every knob, its default, and its type. Set globally (``/_sandbox/knobs`` or the page at
# ``/_sandbox/``) or per request with a header: ``X-Sandbox-Latency-Ms: 20``.
KNOBS = {
    "latency_ms": (0, int),  # added to every API call
    "error_rate": (0.0, float),  # share of API calls answered 500 (half before, half after the write)
    "timeout_rate": (0.0, float),  # share of API calls held past the client's timeout (after the write)
    "hang_seconds": (10.0, float),  # how long a "timed out" call is held
    "throttle_rate": (0.0, float),  # share of API calls answered 429
    "rate_limit": (0, int),  # calls per second per API key before 429 (0: unlimited)
    "retry_after": (1, int),  # Retry-After seconds on a 429
    "reject_rate": (0.0, float),  # share of writes refused with a validation error
}


def knob_header(name: str) -> str:
    return "HTTP_X_SANDBOX_" + name.upper()


def parse_knobs(values: dict, knobs: dict = KNOBS) -> dict:
    """Coerce knob values (from JSON, a form or headers); unknown names and bad values are errors."""
    out = {}
    for name, raw in values.items():
        if name not in knobs:
            raise ValueError(f"unknown knob {name!r}; knobs are {', '.join(knobs)}")
        if raw in ("", None):
            out[name] = None
            continue
        try:
            out[name] = knobs[name][1](raw)
        except (TypeError, ValueError):
            raise ValueError(f"knob {name!r} must be a {knobs[name][1].__name__}") from None
    return out


class HTTPError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None, headers=()):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.headers = status, code, message, fields, list(headers)

    def response(self) -> "Response":
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return Response.json({"error": error}, self.status, self.headers)


@dataclass
class Request:
    environ: dict
    method: str
    path: str
    query: dict
    body: bytes
    params: dict = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ) -> "Request":
        try:
            length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            raise HTTPError(400, "bad_request", "Content-Length is not a number.") from None
        body = environ["wsgi.input"].read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return cls(environ, environ["REQUEST_METHOD"].upper(), environ.get("PATH_INFO", "/"), query, body)

    def header(self, name: str, default: str = "") -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)

    def json(self) -> dict:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise HTTPError(400, "bad_request", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise HTTPError(400, "bad_request", "The body must be a JSON object.")
        return data

    def form(self) -> dict:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(errors="replace")).items()}


@dataclass
class Response:
    status: int
    body: bytes
    headers: list = field(default_factory=list)
    after: float = 0.0  # seconds to hold the response (the "timeout" fault)

    @classmethod
    def json(cls, data, status: int = 200, headers=()) -> "Response":
        return cls(status, json.dumps(data).encode(), [("Content-Type", "application/json"), *headers])

    @classmethod
    def html(cls, text: str, status: int = 200) -> "Response":
        return cls(status, text.encode(), [("Content-Type", "text/html; charset=utf-8")])

    @classmethod
    def redirect(cls, location: str) -> "Response":
        return cls(303, b"", [("Location", location)])


STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class Router:
    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, object, bool]] = []

    def add(self, method: str, pattern: str, handler, *, api: bool = True):
        """``api`` routes get auth and the fault knobs; control routes don't."""
        self.routes.append((method, re.compile(f"^{pattern}$"), handler, api))

    def match(self, request: Request):
        allowed = False
        for method, pattern, handler, api in self.routes:
            m = pattern.match(request.path)
            if m:
                if method == request.method:
                    request.params = m.groupdict()
                    return handler, api
                allowed = True
        raise HTTPError(
            405 if allowed else 404,
            "method_not_allowed" if allowed else "not_found",
            "Method not allowed." if allowed else f"No such resource: {request.path}",
        )


class RateWindow:
    """Calls per second per API key, in one-second windows."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int) -> bool:
        second = int(time.time())
        with self.lock:
            start, count = self.windows.get(key, (second, 0))
            if start != second:
                start, count = second, 0
            self.windows[key] = (start, count + 1)
            return count + 1 <= limit


class Faults:
    """The knobs applied to one API call: global values, overridden by the request's headers."""

    def __init__(self, knobs: dict, request: Request):
        values = {name: default for name, (default, _) in KNOBS.items()}
        values.update({k: v for k, v in knobs.items() if v is not None})
        headers = {name: request.environ[knob_header(name)] for name in KNOBS if knob_header(name) in request.environ}
        try:
            values.update({k: v for k, v in parse_knobs(headers).items() if v is not None})
        except ValueError as exc:
            raise HTTPError(400, "bad_request", str(exc)) from None
        self.values = values

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @staticmethod
    def roll(rate: float) -> bool:
        return rate > 0 and random.random() < rate
