"""The carrier-connection service's own database: one SQLite file (``noyo.sqlite3``), apart from the others."""

import json

from .store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS knob (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS token (token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS roster (carrier_group_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS connection (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version TEXT NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL, completed INTEGER,
    organization_id TEXT NOT NULL, group_id TEXT NOT NULL, carrier_id TEXT NOT NULL,
    status TEXT NOT NULL, status_since REAL NOT NULL, polls_in_status INTEGER NOT NULL DEFAULT 0,
    group_data TEXT NOT NULL, federal_ein TEXT NOT NULL DEFAULT '', setup_result TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS grp (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version TEXT NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL, organization_id TEXT NOT NULL,
    name TEXT NOT NULL, federal_ein TEXT NOT NULL DEFAULT '', carrier_id TEXT NOT NULL, carrier_group_id TEXT NOT NULL,
    populated INTEGER NOT NULL DEFAULT 0, dba_name TEXT NOT NULL DEFAULT '', sic_code TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS record (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL UNIQUE, group_id TEXT NOT NULL,
    custom_id TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT '', data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_group ON record (kind, group_id, seq);
CREATE TABLE IF NOT EXISTS violation (seq INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL);
"""
TABLES = ("knob", "token", "roster", "connection", "grp", "record", "violation")


class NoyoStore(Store):
    def __init__(self, path):
        super().__init__(path, SCHEMA)
        # A file from before POST /groups lacks the group's own fields.
        columns = {r["name"] for r in self.all("PRAGMA table_info(grp)")}
        with self.tx() as db:
            for name in ("dba_name", "sic_code"):
                if name not in columns:
                    db.execute(f"ALTER TABLE grp ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")

    def reset(self) -> None:
        with self.tx() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def records(self, kind: str, group_id: str, *, offset: int = 0, limit: int = -1, where: str = "", params=()) -> list[dict]:
        rows = self.all(
            f"SELECT data FROM record WHERE kind = ? AND group_id = ? {where} ORDER BY seq LIMIT ? OFFSET ?",  # noqa: S608
            [kind, group_id, *params, limit, offset],
        )
        return [json.loads(r["data"]) for r in rows]

    def count(self, kind: str, group_id: str, *, where: str = "", params=()) -> int:
        return self.one(
            f"SELECT count(*) AS n FROM record WHERE kind = ? AND group_id = ? {where}",  # noqa: S608
            [kind, group_id, *params],
        )["n"]
