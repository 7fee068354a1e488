"""The sandbox's own database: one SQLite file, one connection, one lock (the server is threaded)."""

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS knob (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS benefit_account (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    gender TEXT NOT NULL DEFAULT '',
    hire_date TEXT NOT NULL,
    annual_salary TEXT,
    pay_frequency TEXT NOT NULL DEFAULT '',
    benefits_package TEXT NOT NULL,
    employer_reference TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    coverage_end_date TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS benefit_account_email ON benefit_account (lower(email));
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""


class Store:
    def __init__(self, path: str | Path, schema: str = SCHEMA):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(schema)

    @contextmanager
    def tx(self):
        """One write transaction; the lock makes check-then-insert atomic across request threads."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def one(self, sql: str, params=()) -> dict | None:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row else None

    def all(self, sql: str, params=()) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def knobs(self) -> dict:
        return {r["name"]: json.loads(r["value"]) for r in self.all("SELECT name, value FROM knob")}

    def set_knobs(self, values: dict) -> None:
        with self.tx() as db:
            for name, value in values.items():
                if value is None:
                    db.execute("DELETE FROM knob WHERE name = ?", [name])
                else:
                    db.execute(
                        "INSERT INTO knob (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        [name, json.dumps(value)],
                    )

    def reset(self) -> None:
        with self.tx() as db:
            for table in ("knob", "benefit_account", "idempotency"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'benefit_account'")  # ids start again at ACC-0000001
