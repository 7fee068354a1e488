"""The sandbox's WSGI application: routing, API-key auth, fault knobs, and the control surface."""

import html
import json
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

from .ams360 import Ams360
from .benefitpoint import SCHEMA_SQL as BENEFITPOINT_SCHEMA
from .benefitpoint import BenefitPoint, Control
from .benefits_platform import BenefitsPlatform
from .crm import API_KEY as CRM_API_KEY
from .crm import Crm
from .http import KNOBS, STATUS_TEXT, Faults, HTTPError, RateWindow, Request, Response, Router, parse_knobs
from .noyo import NoyoService
from .store import Store

DEFAULT_DB = Path(__file__).resolve().parent.parent / "var" / "sandbox" / "sandbox.sqlite3"


class Sandbox:
    def __init__(self, db_path: str | Path = DEFAULT_DB, api_keys: set[str] | None = None):
        self.store = Store(db_path)
        self.api_keys = api_keys or set(os.environ.get("SANDBOX_API_KEYS", "sandbox-benefits-key").split(","))
        self.router = Router()
        self.rate = RateWindow()
        self.lock = threading.Lock()
        self.calls: Counter = Counter()
        self.benefits = BenefitsPlatform(self.store)
        self.benefits.routes(self.router)
        self.benefits.seed()
        # The benefits-admin system (BenefitPoint's SOAP surface): its own SQLite file next to this one.
        self.benefitpoint = BenefitPoint(
            Store(":memory:" if str(db_path) == ":memory:" else Path(db_path).with_name("benefitpoint.sqlite3"), BENEFITPOINT_SCHEMA)
        )
        self.benefitpoint.routes(self.router)
        Control(self.benefitpoint).routes(self.router)
        self.benefitpoint.seed()
        # The carrier-connection service (Noyo subset): own router prefix, own SQLite file, own tokens.
        self.noyo = NoyoService(Path(db_path).parent / "noyo.sqlite3" if str(db_path) != ":memory:" else ":memory:", self.store.knobs)
        self.noyo.routes(self.router)
        # The agency management system and the CRM: each its own router and SQLite file beside this one.
        files = {name: ":memory:" if str(db_path) == ":memory:" else Path(db_path).with_name(name) for name in ("ams360.sqlite3", "crm.sqlite3")}
        self.ams, self.crm = Ams360(files["ams360.sqlite3"]), Crm(files["crm.sqlite3"])
        self.api_keys.add(CRM_API_KEY)
        for system in (self.ams, self.crm):
            system.routes(self.router)
        self.ams.seed()
        control = [
            ("GET", "/healthz", self.health),
            ("GET", "/_sandbox/", self.page),
            ("POST", "/_sandbox/", self.page_post),
            ("GET", "/_sandbox/knobs", self.get_knobs),
            ("PUT", "/_sandbox/knobs", self.put_knobs),
            ("DELETE", "/_sandbox/knobs", self.delete_knobs),
            ("POST", "/_sandbox/reset", self.reset),
            ("GET", "/_sandbox/stats", self.stats),
            ("GET", "/_sandbox/accounts", self.accounts),
        ]
        for method, path, handler in control:
            self.router.add(method, path, handler, api=False)

    # --- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        try:
            response = self.dispatch(Request.from_environ(environ))
        except HTTPError as exc:
            response = exc.response()
        if response.after:
            time.sleep(response.after)  # the client has given up by now; the write (if any) is done
        start_response(f"{response.status} {STATUS_TEXT.get(response.status, '')}", [*response.headers, ("Content-Length", str(len(response.body)))])
        return [response.body]

    def dispatch(self, request: Request) -> Response:
        handler, api = self.router.match(request)
        if not api:
            return handler(request)
        faults = Faults(self.store.knobs(), request)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        key = request.header("Authorization").removeprefix("Bearer ").strip()
        if key not in self.api_keys:
            raise HTTPError(401, "unauthorized", "Missing or invalid API key (Authorization: Bearer <key>).")
        self._count(request, "calls")
        if (faults.rate_limit and not self.rate.hit(key, faults.rate_limit)) or faults.roll(faults.throttle_rate):
            self._count(request, "429")
            raise HTTPError(429, "rate_limited", "Too many requests; slow down.", headers=[("Retry-After", str(faults.retry_after))])
        after_write_error = False
        if faults.roll(faults.error_rate):
            # Half the 500s come after the write is done: only idempotency keeps a retry from repeating it.
            after_write_error = random.random() < 0.5
            if not after_write_error:
                self._count(request, "500")
                raise HTTPError(500, "server_error", "Internal error (sandbox fault injection).")
        if request.method != "GET" and faults.roll(faults.reject_rate):
            raise HTTPError(422, "validation_failed", "The platform refused the record (sandbox validation knob).")
        response = handler(request)
        if after_write_error:
            self._count(request, "500")
            raise HTTPError(500, "server_error", "Internal error after the write (sandbox fault injection).")
        if faults.roll(faults.timeout_rate):
            self._count(request, "timeout")
            response.after = faults.hang_seconds
        return response

    def _count(self, request: Request, what: str) -> None:
        with self.lock:
            self.calls[f"{request.method} {what}"] += 1

    # --- control surface ------------------------------------------------------------------------
    def health(self, request):
        return Response.json({"ok": True})

    def get_knobs(self, request):
        values = self.store.knobs()
        return Response.json({name: values.get(name, default) for name, (default, _) in KNOBS.items()})

    def put_knobs(self, request):
        try:
            self.store.set_knobs(parse_knobs(request.json()))
        except ValueError as exc:
            raise HTTPError(400, "bad_request", str(exc)) from None
        return self.get_knobs(request)

    def delete_knobs(self, request):
        self.store.set_knobs(dict.fromkeys(KNOBS))
        return self.get_knobs(request)

    def reset(self, request):
        """Back to the demo accounts and default knobs (tests call this between cases)."""
        self.store.reset()
        self.benefits.seed()
        self.noyo.reset()
        self.ams.reset()
        self.crm.reset()
        with self.lock:
            self.calls.clear()
        return Response.json({"ok": True})

    def stats(self, request):
        counts = self.store.one(
            "SELECT count(*) AS accounts, count(DISTINCT lower(email)) AS emails, "
            "sum(status = 'coverage_ended') AS coverage_ended FROM benefit_account"
        )
        with self.lock:
            calls = dict(self.calls)
        return Response.json({**{k: v or 0 for k, v in counts.items()}, "calls": calls})

    def accounts(self, request):
        """Accounts by email, without auth or faults: for tests and benchmarks to check the outcome."""
        rows = self.store.all("SELECT * FROM benefit_account WHERE lower(email) = lower(?) ORDER BY seq", [request.query.get("email", "")])
        return Response.json({"results": [{k: v for k, v in r.items() if k != "seq"} for r in rows]})

    def page(self, request):
        knobs = self.get_knobs(request)
        values = json.loads(knobs.body)
        accounts = self.store.all("SELECT * FROM benefit_account ORDER BY seq DESC LIMIT 100")
        total = self.store.one("SELECT count(*) AS n FROM benefit_account")["n"]
        inputs = "".join(
            f"<tr><th><label for='{n}'>{n}</label></th><td><input id='{n}' name='{n}' value='{html.escape(str(v))}'></td></tr>"
            for n, v in values.items()
        )
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(a[c] or ''))}</td>"
                for c in ("id", "email", "first_name", "last_name", "benefits_package", "status", "coverage_end_date", "updated_at")
            )
            + "</tr>"
            for a in accounts
        )
        body = f"""<!doctype html><html><head><title>Sandbox</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}table{{border-collapse:collapse}}
tr:nth-child(even){{background:#f3f3f3}}</style></head><body>
<h1>Sandbox of outside systems</h1>
<p>Benefits-admin system (BenefitPoint SOAP): <a href="/benefitpoint/">/benefitpoint/</a></p>
<p><a href="/_sandbox/ams/">Agency management system (AMS360)</a> · <a href="/_sandbox/crm/">CRM</a></p>
<p><a href="/_sandbox/noyo/">Carrier-connection service (Noyo subset)</a></p>
<h2>Fault knobs (every API call)</h2>
<form method="post"><table>{inputs}</table><button>Save knobs</button>
<button name="reset" value="1">Reset to demo data</button></form>
<h2>Benefits platform accounts ({total})</h2>
<table><tr><th>id</th><th>email</th><th>first</th><th>last</th><th>package</th><th>status</th><th>coverage end</th><th>updated</th></tr>
{rows}</table></body></html>"""
        return Response.html(body)

    def page_post(self, request):
        form = request.form()
        if form.pop("reset", None):
            self.reset(request)
        else:
            try:
                self.store.set_knobs(parse_knobs({k: v for k, v in form.items() if k in KNOBS}))
            except ValueError as exc:
                raise HTTPError(400, "bad_request", str(exc)) from None
        return Response.redirect("/_sandbox/")
