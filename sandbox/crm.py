"""The CRM: a plain JSON API under ``/crm/v1/`` with its own SQLite file.

The real CRM's API is not published; this one is what the contract asks for: upsert by an external
reference that AgencyDesk controls (``PUT /crm/v1/records/{external_reference}``; ``DELETE`` removes a
record and the records under it), so a retried or
repeated push updates the one record instead of adding another. One record per account, contact
and policy; an account carries a marker per system it is synced with ("AMS synced", "Benefits
synced"). Auth: ``Authorization: Bearer sandbox-crm-key``; the sandbox's fault knobs apply.
Control (no auth): ``/_sandbox/crm/`` (page), ``/_sandbox/crm/records`` (every record, for tests).
"""

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from .http import HTTPError, Request, Response
from .store import Store

PREFIX = "/crm/v1"
API_KEY = "sandbox-crm-key"
KINDS = {"account", "contact", "policy"}
MARKERS = {"AMS synced", "Benefits synced"}
REF = r"(?P<ref>[A-Za-z0-9:._-]{1,120})"
SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_reference TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_reference TEXT NOT NULL DEFAULT '',
    is_primary INTEGER NOT NULL DEFAULT 0,
    fields TEXT NOT NULL DEFAULT '{}',
    markers TEXT NOT NULL DEFAULT '[]',
    writes INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def _public(row: dict) -> dict:
    return {
        **{k: row[k] for k in ("id", "external_reference", "kind", "name", "parent_reference", "writes", "created_at", "updated_at")},
        "is_primary": bool(row["is_primary"]),
        "fields": json.loads(row["fields"]),
        "markers": json.loads(row["markers"]),
    }


class Crm:
    def __init__(self, db_path: str | Path):
        store = Store(db_path, SCHEMA)  # its own SQLite file, one connection and one lock
        self.lock, self.conn = store.lock, store.conn

    def routes(self, router) -> None:
        router.add("PUT", f"{PREFIX}/records/{REF}", self.upsert)
        router.add("GET", f"{PREFIX}/records/{REF}", self.get)
        router.add("DELETE", f"{PREFIX}/records/{REF}", self.delete)
        router.add("GET", f"{PREFIX}/records", self.find)
        router.add("GET", "/_sandbox/crm/records", self.everything, api=False)
        router.add("GET", "/_sandbox/crm/", self.page, api=False)

    def reset(self) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM record")
            self.conn.execute("DELETE FROM sqlite_sequence")

    def _row(self, ref: str) -> dict:
        with self.lock:
            row = self.conn.execute("SELECT * FROM record WHERE external_reference = ?", [ref]).fetchone()
        if row is None:
            raise HTTPError(404, "not_found", f"No CRM record with external reference {ref}.")
        return dict(row)

    def upsert(self, request: Request) -> Response:
        data, ref = request.json(), request.params["ref"]
        errors = {}
        if data.get("kind") not in KINDS:
            errors["kind"] = f"must be one of {', '.join(sorted(KINDS))}"
        if not str(data.get("name") or "").strip():
            errors["name"] = "is required"
        markers = data.get("markers", [])
        if not isinstance(markers, list) or not set(markers) <= MARKERS:
            errors["markers"] = f"must be a list of {', '.join(sorted(MARKERS))}"
        if not isinstance(data.get("fields", {}), dict):
            errors["fields"] = "must be an object"
        parent = str(data.get("parent_reference") or "")
        if data.get("kind") in ("contact", "policy") and not parent:
            errors["parent_reference"] = "is required for a contact or a policy"
        if errors:
            raise HTTPError(422, "validation_failed", "; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = [
            data["kind"],
            str(data["name"]).strip(),
            parent,
            int(bool(data.get("is_primary"))),
            json.dumps(data.get("fields", {}), sort_keys=True),
            json.dumps(sorted(set(markers))),
        ]
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if parent and not self.conn.execute("SELECT 1 FROM record WHERE external_reference = ?", [parent]).fetchone():
                    raise HTTPError(422, "validation_failed", f"parent_reference: no record {parent}", {"parent_reference": f"no record {parent}"})
                existing = self.conn.execute("SELECT id FROM record WHERE external_reference = ?", [ref]).fetchone()
                if existing:
                    self.conn.execute(
                        "UPDATE record SET kind = ?, name = ?, parent_reference = ?, is_primary = ?, fields = ?, "
                        "markers = ?, writes = writes + 1, updated_at = ? WHERE external_reference = ?",
                        [*values, now, ref],
                    )
                else:
                    self.conn.execute(
                        "INSERT INTO record (kind, name, parent_reference, is_primary, fields, markers, "
                        "external_reference, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [*values, ref, now, now],
                    )
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        return Response.json(_public(self._row(ref)), 200 if existing else 201)

    def delete(self, request: Request) -> Response:
        """Delete a record and the records under it (an account merged away on AgencyDesk's side)."""
        ref = self._row(request.params["ref"])["external_reference"]
        with self.lock:
            self.conn.execute("DELETE FROM record WHERE external_reference = ? OR parent_reference = ?", [ref, ref])
        return Response(204, b"")

    def get(self, request: Request) -> Response:
        return Response.json(_public(self._row(request.params["ref"])))

    def find(self, request: Request) -> Response:
        parent = request.query.get("parent_reference", "")
        with self.lock:
            rows = self.conn.execute("SELECT * FROM record WHERE parent_reference = ? ORDER BY id", [parent]).fetchall()
        return Response.json({"results": [_public(dict(r)) for r in rows]})

    def everything(self, request: Request) -> Response:
        with self.lock:
            rows = self.conn.execute("SELECT * FROM record ORDER BY id").fetchall()
        return Response.json({"results": [_public(dict(r)) for r in rows]})

    def page(self, request: Request) -> Response:
        q = request.query.get("q", "").strip()
        with self.lock:
            rows = self.conn.execute("SELECT * FROM record WHERE name LIKE ? ORDER BY id DESC LIMIT 200", [f"%{re.sub(r'[%_]', '', q)}%"]).fetchall()
            total = self.conn.execute("SELECT count(*) FROM record").fetchone()[0]
        body = "".join(
            f"<tr><td>{r['id']}</td><td>{html.escape(r['kind'])}</td><td>{html.escape(r['name'])}</td>"
            f"<td>{html.escape(r['external_reference'])}</td><td>{html.escape(r['parent_reference'])}</td>"
            f"<td>{'Primary' if r['is_primary'] else ''}</td><td>{html.escape(', '.join(json.loads(r['markers'])))}</td>"
            f"<td>{r['writes']}</td></tr>"
            for r in rows
        )
        return Response.html(f"""<!doctype html><html><head><title>Sandbox CRM</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}</style></head><body>
<h1>CRM (sandbox)</h1><p><a href="/_sandbox/">Sandbox home</a> · {total} records</p>
<form><label for="q">Name contains</label> <input id="q" name="q" value="{html.escape(q)}"> <button>Find</button></form>
<table><tr><th>id</th><th>kind</th><th>name</th><th>external reference</th><th>parent</th><th></th><th>markers</th><th>writes</th></tr>
{body}</table></body></html>""")
