"""The carrier-connection service (Noyo Fulfillment API subset) under ``/noyo/``.

Speaks the published contract (``specs/noyo-fulfillment-subset.json``): client-credentials tokens
(``POST /noyo/auth/token``, a Bearer valid 10 minutes, ``expires_in`` in milliseconds), group
connections and their state machine, groups with enrolments, plans and employees, discrepancies and
their acknowledgement. Every request is checked against the contract (a 400 names what is wrong)
and every response is validated before it is sent; a response that would not validate is recorded
as a violation (``GET /_sandbox/noyo/violations``), which the contract tests hold at zero.

A connection moves on when it is read (a poll), at most one step per poll and only after it has
been ``step_seconds`` in its status on the service's clock (``clock_offset_seconds`` moves it):
created -> processing -> [noyo_review] -> [carrier_authorization] -> [waiting_on_carrier] -> completed,
or unable_to_connect, or action_required when the carrier does not know the ``carrier_group_id``
(no roster seeded under it) until ``PUT .../retry`` amends it. The roster's ``script`` decides the
optional steps: ``review``, ``authorization_polls``, ``not_ready_polls`` (K polls waiting on the
carrier), ``unable`` (first attempt only) and ``emit_status`` (a status the published enum lacks,
sent once to show the client's tolerance; that response is marked ``X-Sandbox-Off-Contract``).
"""

import base64
import html
import json
import os
import secrets
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from . import noyo_contract, noyo_roster
from .http import Faults, HTTPError, Request, Response
from .noyo_store import NoyoStore

PREFIX = "/noyo"
API = "/api/v1"
UUID = r"[0-9a-fA-F-]{36}"
OPEN_FOR_RETRY = ("action_required", "unable_to_connect")
# Knobs of this service only (the sandbox-wide ones — latency, 5xx, 429 — apply too).
NOYO_KNOBS = {"clock_offset_seconds": 0.0, "step_seconds": 0.0, "token_ttl_seconds": 600.0}
ORG_NAMESPACE = uuid.UUID("6f1f2a8e-6d1b-4f57-9a53-3c1b5f0e0c11")
# Paging: any integer is a valid page_size or offset (the contract sets no bounds), so none is refused;
# the page is clamped to 1..1000 and the offset to what ``meta`` can say (int32, page_num included).
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 2**31 - 2


def _new_id() -> str:
    return str(uuid.uuid4())


class NoyoService:
    def __init__(self, db_path: str | Path, global_knobs):
        self.store = NoyoStore(db_path)
        self.global_knobs = global_knobs  # the sandbox-wide fault knobs (a callable)
        self.clients = dict(pair.split(":", 1) for pair in os.environ.get("SANDBOX_NOYO_CLIENTS", "agencydesk:sandbox-noyo-secret").split(","))

    # --- wiring ---------------------------------------------------------------------------------
    def routes(self, router) -> None:
        api = [
            ("GET", "/group_connections", self.connection_list),
            ("POST", "/group_connections", self.connection_create),
            ("GET", f"/group_connections/(?P<connection_id>{UUID})", self.connection_get),
            ("PUT", f"/group_connections/(?P<connection_id>{UUID})/retry", self.connection_retry),
            ("GET", "/groups", self.group_list),
            ("POST", "/groups", self.group_create),
            ("GET", f"/groups/(?P<group_id>{UUID})", self.group_get),
            ("GET", f"/groups/(?P<group_id>{UUID})/group_connections", self.group_connection_list),
            ("POST", f"/groups/(?P<group_id>{UUID})/group_connections", self.group_connection_create),
            ("GET", f"/groups/(?P<group_id>{UUID})/group_enrollments", self.enrollment_list),
            ("GET", f"/groups/(?P<group_id>{UUID})/plans", self.plan_list),
            ("GET", f"/groups/(?P<group_id>{UUID})/employees", self.employee_list),
            ("GET", f"/groups/(?P<group_id>{UUID})/employees/(?P<employee_id>[^/]+)", self.employee_get),
            ("GET", "/discrepancies", self.discrepancy_list),
            ("GET", f"/discrepancies/(?P<discrepancy_id>{UUID})", self.discrepancy_get),
            ("PUT", f"/discrepancies/(?P<discrepancy_id>{UUID})/ack", self.discrepancy_ack),
        ]
        for method, path, handler in api:
            router.add(method, PREFIX + API + path, self._api(handler), api=False)
        router.add("POST", PREFIX + "/auth/token", self._faulty(self.token), api=False)
        control = [
            ("GET", "/knobs", self.get_knobs),
            ("PUT", "/knobs", self.put_knobs),
            ("POST", "/rosters", self.seed),
            ("POST", "/expire-tokens", self.expire_tokens),
            ("GET", "/violations", self.violations),
            ("GET", "/connections", self.connections_dump),
            ("GET", "/", self.page),
            ("POST", "/", self.page_post),
        ]
        for method, path, handler in control:
            router.add(method, "/_sandbox/noyo" + path, handler, api=False)

    def reset(self) -> None:
        self.store.reset()

    def _faulty(self, handler):
        def run(request: Request) -> Response:
            faults = Faults(self.global_knobs(), request)
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000)
            if faults.roll(faults.throttle_rate):
                raise HTTPError(429, "rate_limited", "Too many requests; slow down.", headers=[("Retry-After", str(faults.retry_after))])
            if faults.roll(faults.error_rate):
                raise HTTPError(500, "server_error", "Internal error (sandbox fault injection).")
            return handler(request)

        return run

    def _api(self, handler):
        def run(request: Request) -> Response:
            self._authenticate(request)
            # An empty value is a value: ``?subject_id=`` is checked (and refused) like any other, not dropped.
            request.query = {k: v[-1] for k, v in parse_qs(request.environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
            path = request.path.removeprefix(PREFIX)
            body = request.json() if request.body else None
            problems = noyo_contract.request_violations(request.method, path, query=request.query, body=body)
            if problems:
                raise HTTPError(400, "invalid_request", "; ".join(problems))
            response = self._faulty(handler)(request)
            if not any(name == "X-Sandbox-Off-Contract" for name, _ in response.headers):
                problems = noyo_contract.response_violations(request.method, path, response.status, json.loads(response.body))
                if problems:
                    with self.store.tx() as db:
                        db.executemany("INSERT INTO violation (message) VALUES (?)", [[p] for p in problems])
            return response

        return run

    # --- clock, knobs, tokens -------------------------------------------------------------------
    def knobs(self) -> dict:
        return {**NOYO_KNOBS, **{k: v for k, v in self.store.knobs().items() if k in NOYO_KNOBS}}

    def now(self) -> float:
        return time.time() + float(self.knobs()["clock_offset_seconds"])

    def token(self, request: Request) -> Response:
        client_id, secret = self._basic(request)
        if self.clients.get(client_id) != secret or request.form().get("grant_type") != "client_credentials":
            raise HTTPError(401, "invalid_client", "Unknown client or secret, or grant_type is not client_credentials.")
        ttl = float(self.knobs()["token_ttl_seconds"])
        token = secrets.token_urlsafe(32)
        with self.store.tx() as db:
            db.execute("DELETE FROM token WHERE expires_at < ?", [time.time()])
            db.execute("INSERT INTO token (token, client_id, expires_at) VALUES (?, ?, ?)", [token, client_id, time.time() + ttl])
        return Response.json({"access_token": token, "token_type": "Bearer", "expires_in": int(ttl * 1000)})

    @staticmethod
    def _basic(request: Request) -> tuple[str, str]:
        header = request.header("Authorization")
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
                return client_id, secret
            except ValueError:
                pass
        form = request.form()
        return form.get("client_id", ""), form.get("client_secret", "")

    def _authenticate(self, request: Request) -> str:
        token = request.header("Authorization").removeprefix("Bearer ").strip()
        row = self.store.one("SELECT client_id, expires_at FROM token WHERE token = ?", [token]) if token else None
        if row is None or row["expires_at"] < time.time():
            raise HTTPError(401, "token_expired" if row else "unauthorized", "The access token is missing, unknown or expired.")
        request.params["_org"] = str(uuid.uuid5(ORG_NAMESPACE, row["client_id"]))
        return row["client_id"]

    # --- connections ----------------------------------------------------------------------------
    def _connection(self, connection_id: str) -> dict:
        row = self.store.one("SELECT * FROM connection WHERE id = ?", [connection_id])
        if row is None:
            raise HTTPError(404, "not_found", f"No group connection {connection_id}.")
        return row

    @staticmethod
    def _public(row: dict) -> dict:
        out = {
            "id": row["id"],
            "version": row["version"],
            "created": row["created"],
            "modified": row["modified"],
            "organization_id": row["organization_id"],
            "group_id": row["group_id"],
            "carrier_id": row["carrier_id"],
            "request_type": "new_group" if row["attempts"] == 1 else "retry",
            "status": row["status"],
            "group_data": json.loads(row["group_data"]),
            "setup_result": json.loads(row["setup_result"]),
            "setup_metadata": {"attempts": row["attempts"]},
        }
        if row["completed"]:
            out["completed"] = row["completed"]
        if row["federal_ein"]:
            out["federal_ein"] = row["federal_ein"]
        return out

    def _connection_response(self, row: dict, status: int = 200) -> Response:
        data = self._public(row)
        known = noyo_contract.spec()["components"]["schemas"]["GroupSetupRequestPublicResult"]["properties"]["status"]["enum"]
        headers = [] if row["status"] in known else [("X-Sandbox-Off-Contract", "status")]
        return Response.json(data, status, headers)

    def _connection_insert(self, db, *, organization_id: str, group_id: str, carrier_id: str, group_data: dict, federal_ein: str, now: float) -> str:
        row = {
            "id": _new_id(),
            "version": _new_id(),
            "created": int(now),
            "modified": int(now),
            "completed": None,
            "organization_id": organization_id,
            "group_id": group_id,
            "carrier_id": carrier_id,
            "status": "created",
            "status_since": now,
            "group_data": json.dumps(group_data),
            "federal_ein": federal_ein,
            "setup_result": "{}",
            "attempts": 1,
        }
        db.execute(f"INSERT INTO connection ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))  # noqa: S608
        return row["id"]

    def connection_create(self, request: Request) -> Response:
        """A connection for a new group, named in ``group_data``."""
        data = request.json()
        group_data = data["group_data"]
        now = self.now()
        group_id = _new_id()
        with self.store.tx() as db:
            db.execute(
                "INSERT INTO grp (id, version, created, modified, organization_id, name, federal_ein, carrier_id, "
                "carrier_group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    group_id,
                    _new_id(),
                    int(now),
                    int(now),
                    request.params["_org"],
                    group_data["group_name"],
                    data.get("federal_ein", ""),
                    data["carrier_id"],
                    group_data["carrier_group_id"],
                ],
            )
            connection_id = self._connection_insert(
                db,
                organization_id=request.params["_org"],
                group_id=group_id,
                carrier_id=data["carrier_id"],
                group_data=group_data,
                federal_ein=data.get("federal_ein", ""),
                now=now,
            )
        return self._connection_response(self._connection(connection_id), 201)

    def group_connection_create(self, request: Request) -> Response:
        """A connection for a group the service knows already (made by ``POST /groups`` or an earlier connection);
        one per carrier: another while one is open (not unable to connect) is a conflict."""
        data = request.json()
        group = self._group(request)
        now = self.now()
        with self.store.tx() as db:
            open_one = db.execute(
                "SELECT id, status FROM connection WHERE group_id = ? AND carrier_id = ? AND status != 'unable_to_connect'",
                [group["id"], data["carrier_id"]],
            ).fetchone()
            if open_one is not None:
                raise HTTPError(
                    409,
                    "conflict",
                    f"The group has a connection to this carrier already ({open_one['id']}, {open_one['status']}); retry that one instead.",
                )
            connection_id = self._connection_insert(
                db,
                organization_id=group["organization_id"],
                group_id=group["id"],
                carrier_id=data["carrier_id"],
                group_data={**data["group_data"], "group_name": group["name"]},
                federal_ein=group["federal_ein"],
                now=now,
            )
        out = self._public(self._connection(connection_id))
        out["setup_data"] = {k: data[k] for k in ("data_exchange_configuration", "ignore_eligibility") if k in data}
        return Response.json(out, 201)

    def connection_get(self, request: Request) -> Response:
        return self._connection_response(self._advance(request.params["connection_id"]))

    def connection_retry(self, request: Request) -> Response:
        amended = request.json()
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM connection WHERE id = ?", [request.params["connection_id"]]).fetchone()
            if row is None:
                raise HTTPError(404, "not_found", f"No group connection {request.params['connection_id']}.")
            if row["status"] not in OPEN_FOR_RETRY:
                raise HTTPError(409, "conflict", f"Only a connection in {' or '.join(OPEN_FOR_RETRY)} can be retried; this one is {row['status']}.")
            group_data = json.loads(row["group_data"])
            group_data.update({k: v for k, v in amended.items() if k != "federal_ein"})
            now = self.now()
            db.execute(
                "UPDATE connection SET group_data = ?, federal_ein = ?, status = 'processing', status_since = ?, "
                "polls_in_status = 0, attempts = attempts + 1, setup_result = '{}', modified = ?, version = ? WHERE id = ?",
                [json.dumps(group_data), amended.get("federal_ein", row["federal_ein"]), now, int(now), _new_id(), row["id"]],
            )
            db.execute("UPDATE grp SET carrier_group_id = ?, modified = ? WHERE id = ?", [group_data["carrier_group_id"], int(now), row["group_id"]])
        return self._connection_response(self._connection(request.params["connection_id"]), 201)

    def _next(self, row: dict, roster: dict | None) -> tuple[str, dict]:
        """The status after ``row``'s current one, and the setup result that goes with it."""
        if roster is None:
            carrier_group_id = json.loads(row["group_data"])["carrier_group_id"]
            return "action_required", {"errors": [{"field": "carrier_group_id", "message": f"The carrier does not know group {carrier_group_id}."}]}
        script = roster["script"]
        steps = ["processing"]
        if script.get("review"):
            steps.append("noyo_review")
        if script.get("emit_status"):
            steps.append(script["emit_status"])
        if script.get("unable") and row["attempts"] == 1:
            steps.append("unable_to_connect")
        if script.get("authorization_polls"):
            steps.append("carrier_authorization")
        if script.get("not_ready_polls"):
            steps.append("waiting_on_carrier")
        steps.append("completed")
        current = steps.index(row["status"]) if row["status"] in steps else 0
        new = steps[current + 1]
        if new == "unable_to_connect":
            return new, {"errors": [{"message": "The carrier declined the connection: the group is not activated."}]}
        return new, {}

    def _advance(self, connection_id: str) -> dict:
        """One poll: the connection moves on when its step is due (see the module's docstring)."""
        with self.store.tx() as db:
            row = dict(db.execute("SELECT * FROM connection WHERE id = ?", [connection_id]).fetchone() or {})
            if not row:
                raise HTTPError(404, "not_found", f"No group connection {connection_id}.")
            if row["status"] in ("completed", *OPEN_FOR_RETRY):
                return row
            now, polls = self.now(), row["polls_in_status"] + 1
            if now - row["status_since"] < float(self.knobs()["step_seconds"]):
                return row
            roster_row = db.execute(
                "SELECT data FROM roster WHERE carrier_group_id = ?", [json.loads(row["group_data"])["carrier_group_id"]]
            ).fetchone()
            roster = json.loads(roster_row["data"]) if roster_row else None
            script = (roster or {}).get("script", {})
            waits = {
                "waiting_on_carrier": int(script.get("not_ready_polls") or 0),
                "carrier_authorization": int(script.get("authorization_polls") or 0),
            }
            if polls < waits.get(row["status"], 0):
                db.execute("UPDATE connection SET polls_in_status = ? WHERE id = ?", [polls, connection_id])
                return row
            new, result = ("processing", {}) if row["status"] == "created" else self._next(row, roster)
            db.execute(
                "UPDATE connection SET status = ?, status_since = ?, polls_in_status = 0, setup_result = ?, "
                "modified = ?, version = ?, completed = ? WHERE id = ?",
                [new, now, json.dumps(result), int(now), _new_id(), int(now) if new == "completed" else None, connection_id],
            )
            if new == "completed":
                self._populate(db, row, roster)
            return dict(db.execute("SELECT * FROM connection WHERE id = ?", [connection_id]).fetchone())

    def _populate(self, db, row: dict, roster: dict) -> None:
        """The group's enrolments, plans, employees and the service's own discrepancies appear."""
        from .noyo_records import group_records

        db.execute("DELETE FROM record WHERE group_id = ?", [row["group_id"]])
        db.executemany(
            "INSERT INTO record (kind, id, group_id, custom_id, status, data) VALUES (?, ?, ?, ?, ?, ?)", group_records(row, roster, int(self.now()))
        )
        db.execute("UPDATE grp SET populated = 1, name = ? WHERE id = ?", [roster["group_name"] or "Group", row["group_id"]])

    # --- lists ----------------------------------------------------------------------------------
    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        """(page size, offset) from a request the contract check passed (so both are integers when given)."""
        size = min(max(int(request.query.get("page_size") or 100), 1), MAX_PAGE_SIZE)
        return size, min(max(int(request.query.get("offset") or 0), 0), MAX_OFFSET)

    @staticmethod
    def _paged(items: list, total: int, size: int, offset: int) -> Response:
        return Response.json(
            {"meta": {"offset": offset, "page_num": offset // size + 1, "page_size": size, "total_records": total}, "response": items}
        )

    def _connections(self, request: Request, where: list[str], params: list) -> Response:
        size, offset = self._page(request)
        for name in ("status", "carrier_id", "organization_id"):
            if request.query.get(name):
                where.append(f"{name} = ?")
                params.append(request.query[name])
        if request.query.get("id"):
            ids = request.query["id"].split(",")
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            params += ids
        clause = " AND ".join(["organization_id = ?", *where])
        params = [request.params["_org"], *params]
        total = self.store.one(f"SELECT count(*) AS n FROM connection WHERE {clause}", params)["n"]  # noqa: S608
        rows = self.store.all(f"SELECT * FROM connection WHERE {clause} ORDER BY seq LIMIT ? OFFSET ?", [*params, size, offset])  # noqa: S608
        known = set(noyo_contract.spec()["components"]["schemas"]["GroupSetupRequestPublicResult"]["properties"]["status"]["enum"])
        response = self._paged([self._public(r) for r in rows], total, size, offset)
        if any(r["status"] not in known for r in rows):
            response.headers.append(("X-Sandbox-Off-Contract", "status"))
        return response

    def connection_list(self, request: Request) -> Response:
        if request.query.get("carrier_group_id"):
            return self._connections(request, ["json_extract(group_data, '$.carrier_group_id') = ?"], [request.query["carrier_group_id"]])
        return self._connections(request, [], [])

    def group_connection_list(self, request: Request) -> Response:
        self._group(request)
        return self._connections(request, ["group_id = ?"], [request.params["group_id"]])

    def _group(self, request: Request) -> dict:
        row = self.store.one("SELECT * FROM grp WHERE id = ? AND organization_id = ?", [request.params["group_id"], request.params["_org"]])
        if row is None:
            raise HTTPError(404, "not_found", f"No group {request.params['group_id']}.")
        return row

    @staticmethod
    def _group_public(row: dict) -> dict:
        out = {k: row[k] for k in ("id", "version", "created", "modified", "organization_id", "name")}
        out.update({k: row[k] for k in ("federal_ein", "dba_name", "sic_code") if row[k]})
        return out

    def group_create(self, request: Request) -> Response:
        """A group of the caller's organization (``organization_id``, when given, must be it)."""
        data = request.json()
        org = request.params["_org"]
        if data.get("organization_id") not in (None, org):
            raise HTTPError(403, "forbidden", "This client may create groups for its own organization only.")
        now = int(self.now())
        group_id = _new_id()
        with self.store.tx() as db:
            db.execute(
                "INSERT INTO grp (id, version, created, modified, organization_id, name, federal_ein, dba_name, sic_code, "
                "carrier_id, carrier_group_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')",
                [group_id, _new_id(), now, now, org, data["name"], data.get("federal_ein", ""), data.get("dba_name", ""), data.get("sic_code", "")],
            )
        return Response.json(self._group_public(self.store.one("SELECT * FROM grp WHERE id = ?", [group_id])), 201)

    def group_get(self, request: Request) -> Response:
        return Response.json(self._group_public(self._group(request)))

    def group_list(self, request: Request) -> Response:
        size, offset = self._page(request)
        where, params = ["organization_id = ?"], [request.params["_org"]]
        # A group's carriers are those of its connections (a group made by POST /groups has none yet).
        for name, expression in (("carrier_id", "carrier_id"), ("carrier_group_id", "json_extract(group_data, '$.carrier_group_id')")):
            if request.query.get(name):
                where.append(f"id IN (SELECT group_id FROM connection WHERE {expression} = ?)")  # noqa: S608 - fixed expressions
                params.append(request.query[name])
        if request.query.get("group_ids"):
            ids = request.query["group_ids"].split(",")
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            params += ids
        if request.query.get("company"):
            where.append("lower(name) LIKE ?")
            params.append(f"%{request.query['company'].lower()}%")
        clause = " AND ".join(where)
        total = self.store.one(f"SELECT count(*) AS n FROM grp WHERE {clause}", params)["n"]  # noqa: S608
        rows = self.store.all(f"SELECT * FROM grp WHERE {clause} ORDER BY seq LIMIT ? OFFSET ?", [*params, size, offset])  # noqa: S608
        return self._paged([self._group_public(r) for r in rows], total, size, offset)

    def _records(self, request: Request, kind: str, filters: dict[str, str]) -> Response:
        self._group(request)
        size, offset = self._page(request)
        where, params = "", []
        for name, expression in filters.items():
            if request.query.get(name):
                where += f" AND {expression} = ?"
                params.append(request.query[name])
        total = self.store.count(kind, request.params["group_id"], where=where, params=params)
        items = self.store.records(kind, request.params["group_id"], offset=offset, limit=size, where=where, params=params)
        return self._paged(items, total, size, offset)

    def enrollment_list(self, request: Request) -> Response:
        return self._records(request, "enrollment", {"status": "status", "effective_date": "json_extract(data, '$.effective_start_date')"})

    def plan_list(self, request: Request) -> Response:
        return self._records(
            request,
            "plan",
            {"status": "status", "line_of_coverage": "json_extract(data, '$.line_of_coverage')", "carrier_id": "json_extract(data, '$.carrier_id')"},
        )

    def employee_list(self, request: Request) -> Response:
        return self._records(
            request,
            "employee",
            {
                "first_name": "json_extract(data, '$.person.first_name')",
                "last_name": "json_extract(data, '$.person.last_name')",
                "date_of_birth": "json_extract(data, '$.person.date_of_birth')",
                "employment_status": "status",
            },
        )

    def employee_get(self, request: Request) -> Response:
        self._group(request)
        key = request.params["employee_id"]
        rows = self.store.records("employee", request.params["group_id"], where="AND (id = ? OR custom_id = ?)", params=[key, key])
        if not rows:
            raise HTTPError(404, "not_found", f"No employee {key} in this group.")
        return Response.json(rows[0])

    # --- discrepancies --------------------------------------------------------------------------
    def discrepancy_list(self, request: Request) -> Response:
        size, offset = self._page(request)
        where, params = ["r.kind = 'discrepancy'", "g.organization_id = ?"], [request.params["_org"]]
        for name in ("status", "group_id", "carrier_id", "subject_id", "subject_type", "discrepancy_type"):
            if request.query.get(name):
                where.append("r.status = ?" if name == "status" else f"json_extract(r.data, '$.{name}') = ?")
                params.append(request.query[name])
        clause = " AND ".join(where)
        base = f"FROM record r JOIN grp g ON g.id = r.group_id WHERE {clause}"
        total = self.store.one(f"SELECT count(*) AS n {base}", params)["n"]
        rows = self.store.all(f"SELECT r.data {base} ORDER BY r.seq LIMIT ? OFFSET ?", [*params, size, offset])
        return self._paged([json.loads(r["data"]) for r in rows], total, size, offset)

    def _discrepancy(self, request: Request) -> dict:
        row = self.store.one(
            "SELECT r.data FROM record r JOIN grp g ON g.id = r.group_id WHERE r.kind = 'discrepancy' AND r.id = ? AND g.organization_id = ?",
            [request.params["discrepancy_id"], request.params["_org"]],
        )
        if row is None:
            raise HTTPError(404, "not_found", f"No discrepancy {request.params['discrepancy_id']}.")
        return json.loads(row["data"])

    def discrepancy_get(self, request: Request) -> Response:
        return Response.json(self._discrepancy(request))

    def discrepancy_ack(self, request: Request) -> Response:
        data = self._discrepancy(request)
        if data["status"] == "needs_review":  # acknowledged: the service works on it
            data.update(status="processing", modified=int(self.now()), version=_new_id())
            with self.store.tx() as db:
                db.execute("UPDATE record SET data = ?, status = ? WHERE id = ?", [json.dumps(data), data["status"], data["id"]])
        return Response.json(data)

    # --- control surface (no auth, no faults) ---------------------------------------------------
    def get_knobs(self, request: Request) -> Response:
        return Response.json(self.knobs())

    def put_knobs(self, request: Request) -> Response:
        values = request.json()
        unknown = set(values) - set(NOYO_KNOBS)
        if unknown:
            raise HTTPError(400, "bad_request", f"unknown knob(s) {', '.join(sorted(unknown))}; knobs are {', '.join(NOYO_KNOBS)}")
        try:
            self.store.set_knobs({k: None if v in ("", None) else float(v) for k, v in values.items()})
        except (TypeError, ValueError):
            raise HTTPError(400, "bad_request", "knob values are numbers") from None
        return self.get_knobs(request)

    def seed(self, request: Request) -> Response:
        """Seed what the carrier knows about one group; answers with the differences planted."""
        roster, planted = noyo_roster.build(request.json())
        with self.store.tx() as db:
            db.execute(
                "INSERT INTO roster (carrier_group_id, data) VALUES (?, ?) ON CONFLICT (carrier_group_id) DO UPDATE SET data = excluded.data",
                [roster["carrier_group_id"], json.dumps(roster)],
            )
        return Response.json({"carrier_group_id": roster["carrier_group_id"], "members": len(roster["members"]), "planted": planted}, 201)

    def expire_tokens(self, request: Request) -> Response:
        with self.store.tx() as db:
            db.execute("UPDATE token SET expires_at = 0")
        return Response.json({"ok": True})

    def violations(self, request: Request) -> Response:
        rows = self.store.all("SELECT message FROM violation ORDER BY seq")
        return Response.json({"count": len(rows), "violations": [r["message"] for r in rows[:100]]})

    def page(self, request: Request) -> Response:
        """The service's control page: its knobs, the carrier groups it knows, the connections and where they stand."""
        esc = html.escape
        knobs = "".join(
            f"<tr><th><label for='{k}'>{k}</label></th><td><input id='{k}' name='{k}' value='{v}'></td></tr>" for k, v in self.knobs().items()
        )
        rosters = "".join(f"<li>{esc(r['carrier_group_id'])}</li>" for r in self.store.all("SELECT carrier_group_id FROM roster"))
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{esc(str(c))}</td>"
                for c in (
                    r["id"],
                    json.loads(r["group_data"]).get("carrier_group_id"),
                    r["status"],
                    r["attempts"],
                    r["polls_in_status"],
                    time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["modified"])),
                )
            )
            + "</tr>"
            for r in self.store.all("SELECT * FROM connection ORDER BY seq DESC LIMIT 200")
        )
        return Response.html(f"""<!doctype html><html><head><title>Sandbox: carrier connections</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}</style></head><body>
<h1>Carrier-connection service (Noyo subset)</h1><p><a href="/_sandbox/">All outside systems</a></p>
<h2>Knobs</h2><form method="post"><table>{knobs}</table><button>Save knobs</button></form>
<h2>Carrier group ids the carrier knows</h2><ul>{rosters or "<li>none: seed one with manage.py carriers_sandbox_seed</li>"}</ul>
<h2>Connections</h2><table><tr><th>id</th><th>carrier group id</th><th>status</th><th>attempts</th><th>polls in status</th>
<th>modified (UTC)</th></tr>{rows}</table></body></html>""")

    def page_post(self, request: Request) -> Response:
        form = {k: v for k, v in request.form().items() if k in NOYO_KNOBS}
        try:
            self.store.set_knobs({k: None if v == "" else float(v) for k, v in form.items()})
        except ValueError:
            raise HTTPError(400, "bad_request", "knob values are numbers") from None
        return Response.redirect("/_sandbox/noyo/")

    def connections_dump(self, request: Request) -> Response:
        return Response.json({"results": [self._public(r) for r in self.store.all("SELECT * FROM connection ORDER BY seq")]})
