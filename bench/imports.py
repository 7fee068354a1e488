"""Imports from CSV at N rows: a census (employees), individuals and policies.

Which run: ``BENCH_IMPORTS`` ("census,individuals" by default; the census needs PostgreSQL's COPY for its
limit, so on SQLite only individuals run). ``BENCH_IMPORTS_POLICIES=0`` leaves policies out.

**Individuals and policies** (issue 20): the import a job runs (``import_run`` with an undo log: every row
checked first, writing nothing, then written one short transaction per ``IMPORT_CHUNK_ROWS`` chunk, every
record audited), rows/s against the same rows, as the import stored them, inserted again by plain SQL
``executemany`` in one transaction in the same run (goal: at least ``INDIVIDUALS_GOAL`` of its rate). Runs
on SQLite too (``DATABASE_URL=sqlite:///...``).

**The census:** a census import of N employees from CSV: rows/s and peak memory, at N/10 and at N.

The import path is ``hrsync.services.employee_census_import`` on a file object, as a job runs it:
``core.importing`` streams the file and feeds the resource 1,000 rows at a time inside one
transaction (every row cleaned and validated on its own; each chunk's rows written in bulk through
the employee services, every employee audited). The limit for the rate is plain
psycopg ``COPY … FROM STDIN`` of the same CSV into a table of text columns, in the same run.
Goal for the rate: at least 1/1000 of COPY's (about 1,000 rows/s on the 2-core bench machine: a
20,000-employee census in well under a minute), for a path that validates, audits and runs the
services on every row where COPY only moves bytes. Memory is the process's peak RSS during each
import (reset before it); goals: <= 256 MB at N, and flat (peak at N over peak at N/10 <= 1.25).
"""

import csv
import logging
import os
import tempfile
import time
from pathlib import Path

from bench.report import figure, peak_rss_mb, reset_peak_rss

DEFAULT = 1_000_000
BENCH = "imports"
MEMORY_LIMIT_MB = 256
INDIVIDUALS_GOAL = 0.05
HEADER = [
    "employer_group",
    "first_name",
    "last_name",
    "email",
    "date_of_birth",
    "gender",
    "hire_date",
    "leave_date",
    "annual_pay",
    "pay_frequency",
    "benefits_level",
    "create_benefits_record",
]


def _write_census(path: Path, *, group: str, rows: int) -> int:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(
                [group, "Ann", f"Bench{i}", f"e{i}@{group.lower()}.example", "1980-01-01", "F", "2020-01-01", "", "50000", "monthly", "Basic", ""]
            )
    return path.stat().st_size


def _copy_limit(path: Path) -> float:
    """Seconds for plain COPY FROM STDIN of the same file into a table of text columns."""
    from bench.setup import psycopg_connect

    columns = ", ".join(f"{name} text" for name in HEADER)
    with psycopg_connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bench_census ({columns})")
        start = time.perf_counter()
        with open(path, "rb") as source, cursor.copy("COPY bench_census FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while block := source.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - start


def _setup(run_id: str):
    from accounts.models import User
    from hrsync.models import BenefitsLevel
    from plans.models import EmployerGroup

    actor = User.objects.filter(is_superuser=True, username="bench-imports").first() or User.objects.create_superuser("bench-imports", password=None)
    BenefitsLevel.objects.get_or_create(name="Basic", defaults={"package_code": "BASIC"})
    EmployerGroup.objects.create(name=f"Bench census {run_id}", account_number=run_id)
    return actor


def _import(path: Path, actor):
    from hrsync.services import employee_census_import

    reset_peak_rss()
    start = time.perf_counter()
    with open(path, "rb") as stream:
        report = employee_census_import(actor=actor, content=stream, file_format="csv", dry_run=False)
    seconds = time.perf_counter() - start
    assert report.written and report.rows == report.totals.get("new"), report.as_dict()
    return seconds, peak_rss_mb()


def run(size: int = DEFAULT) -> list[dict]:
    from django.db import connection

    kinds = os.environ.get("BENCH_IMPORTS", "census,individuals").split(",")
    results = []
    if "individuals" in kinds:
        with tempfile.TemporaryDirectory() as folder:
            results += _individuals(size, folder, _setup(f"I{int(time.time())}-{size}"), int(time.time()))
    if "census" in kinds and connection.vendor == "postgresql":
        results += _census(size)
    return results


def _census(size: int) -> list[dict]:
    from django.db import connection

    stamp = f"B{int(time.time())}"
    results = []
    peaks = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in (max(size // 10, 1), size):
            run_id = f"{stamp}-{rows}"
            actor = _setup(run_id)
            path = Path(folder) / f"census-{rows}.csv"
            megabytes = _write_census(path, group=run_id, rows=rows) / 1e6
            print(f"Census import of {rows:,} employees ({megabytes:.0f} MB CSV, {connection.vendor})")
            copy_seconds = _copy_limit(path)
            seconds, peak = _import(path, actor)
            peaks[rows] = peak
            print(f"  COPY FROM STDIN: {copy_seconds:.2f} s ({rows / copy_seconds:,.0f} rows/s); import: {seconds:.1f} s, peak {peak:.0f} MB")
            if rows == size:
                results.append(
                    figure(
                        BENCH,
                        f"census import {rows:,} rows, rows/s",
                        value=rows / seconds,
                        unit="rows/s",
                        limit=rows / copy_seconds,
                        goal=0.001,
                        better="higher",
                        note=f"{seconds:.0f} s; validated per row, written per chunk, audited",
                    )
                )
                results.append(
                    figure(
                        BENCH,
                        f"census import {rows:,} rows, peak memory",
                        value=peak,
                        unit="MB",
                        limit=MEMORY_LIMIT_MB,
                        goal=1.0,
                        note="peak RSS of the process",
                    )
                )
            path.unlink()
    small, large = sorted(peaks)
    results.append(
        figure(
            BENCH,
            f"peak memory at {large:,} over {small:,} rows",
            value=peaks[large],
            unit="MB",
            limit=peaks[small],
            goal=1.25,
            note="flat: the file is streamed in chunks",
        )
    )
    return results


# --- individuals and policies (issue 20): the same two-pass import a job runs, against plain executemany ---------
INDIVIDUAL_HEADER = [
    "first_name",
    "last_name",
    "record_status",
    "email",
    "cell_phone",
    "address_line1",
    "city",
    "state",
    "zip_code",
    "gender",
    "date_of_birth",
    "lead_source",
    "smoker_status",
    "ssn",
    "drivers_license",
]
POLICY_HEADER = ["carrier_code", "policy_number", "individual_id", "coverage_type", "status", "effective_date", "premium"]
STATES = ["TX", "FL", "CA", "NY", "OH", "GA", "AZ", "PA"]


def _ssn(i: int) -> str:
    """A distinct valid SSN for each i (area 001-665, group 01-99, serial 0001-9999)."""
    serial, rest = i % 9999 + 1, i // 9999
    group, area = rest % 99 + 1, rest // 99 + 1
    return f"{area:03d}-{group:02d}-{serial:04d}"


def _write_individuals(path: Path, *, marker: str, rows: int, first: int) -> int:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(INDIVIDUAL_HEADER)
        for i in range(first, first + rows):
            writer.writerow(
                [
                    "Margaret",
                    f"Bench{i}",
                    "active",
                    f"m{i}@example.com",
                    "(512) 555-0100",
                    f"{i} Main Street",
                    "Austin",
                    STATES[i % len(STATES)],
                    "78701",
                    "female",
                    "1950-03-14",
                    marker,
                    "non_smoker",
                    _ssn(i),
                    f"D{i:07d}",
                ]
            )
    return path.stat().st_size


def _write_policies(path: Path, *, carrier: str, individuals: list[int], marker: str) -> int:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(POLICY_HEADER)
        for n, pk in enumerate(individuals):
            writer.writerow([carrier, f"{marker}-{n}", pk, "medicare_advantage", "active", "2026-01-01", "120.50"])
    return path.stat().st_size


class _Transactions(logging.Handler):
    """The seconds of each chunk's write transaction, as ``core.importing`` logs them (debug)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seconds: list[float] = []

    def emit(self, record):
        if "in one transaction of" in str(record.msg):
            self.seconds.append(float(record.args[-1]))


def _run_import(kind: str, path: Path, actor, settings_override: dict) -> tuple[float, dict]:
    """The import as a job runs it: checked, then written one short transaction per chunk with the undo log;
    the report, with the longest chunk transaction (``longest_transaction``, seconds)."""
    from django.test import override_settings

    from core.importing import import_dataset, import_run
    from core.importing.undo import UndoLog
    from individuals.resources import RESOURCES

    reset_peak_rss()
    watch, logger = _Transactions(), logging.getLogger("core.importing.base")
    level, _ = logger.level, logger.addHandler(watch)
    logger.setLevel(logging.DEBUG)
    start = time.perf_counter()
    with override_settings(**settings_override), open(path, "rb") as stream:
        report = import_run(
            resource=RESOURCES[kind](),
            kind=kind,
            dataset=import_dataset(stream, "csv"),
            actor=actor,
            dry_run=False,
            file_format="csv",
            undo_log=UndoLog(path.with_name(path.name + ".undo")),
        )
    seconds = time.perf_counter() - start
    logger.removeHandler(watch)
    logger.setLevel(level)
    assert report.written and report.totals == {"new": report.rows}, report.as_dict()
    return seconds, {**report.as_dict(), "longest_transaction": max(watch.seconds, default=0.0), "chunks": len(watch.seconds)}


def _plain_limit(model, where: dict) -> float:
    """Seconds for the rows ``where`` selects, as stored, inserted again by plain SQL executemany in one
    transaction (then removed): the rows the import wrote, without Django, validation or audit."""
    from django.db import connection, transaction

    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    stored = model.objects.filter(**where).values_list(*[f.attname for f in fields])
    rows = [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in stored]
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES ({', '.join(['%s'] * len(columns))})"
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    seconds = time.perf_counter() - start
    return seconds


def _individuals(size: int, folder: str, actor, stamp: int) -> list[dict]:
    from django.conf import settings
    from django.db import connection

    from individuals.models import Individual, Policy
    from plans.models import Carrier

    results = []
    marker = f"bench-{stamp}"
    first = (stamp % 600) * 9999 * 99  # an SSN area of its own per run: every row is new
    path = Path(folder) / f"individuals-{size}.csv"
    megabytes = _write_individuals(path, marker=marker, rows=size, first=first) / 1e6
    chunk = settings.IMPORT_CHUNK_ROWS
    print(f"Individuals import of {size:,} rows ({megabytes:.1f} MB CSV, {connection.vendor}, chunks of {chunk:,})")
    seconds, done = _run_import("individuals", path, actor, {})
    peak = peak_rss_mb()
    ids = list(Individual.objects.filter(lead_source=marker).values_list("pk", flat=True))
    assert len(ids) == size
    plain = _plain_limit(Individual, {"lead_source": marker})
    print(f"  import: {seconds:.1f} s ({size / seconds:,.0f} rows/s), peak {peak:.0f} MB; plain executemany: {plain:.2f} s")
    results.append(
        figure(
            BENCH,
            f"individuals import {size:,} rows ({megabytes:.0f} MB), rows/s",
            value=size / seconds,
            unit="rows/s",
            limit=size / plain,
            goal=INDIVIDUALS_GOAL,
            better="higher",
            grows="linear",
            note=f"{seconds:.1f} s on {connection.vendor}; checked, then written per chunk, each record audited",
        )
    )
    results.append(
        figure(
            BENCH,
            f"individuals import {size:,} rows, longest chunk transaction",
            value=done["longest_transaction"],
            unit="s",
            limit=1.0,
            goal=1.0,
            grows="flat",
            note=f"{done['chunks']} chunks of {chunk:,} rows; goal: well under 1 s",
        )
    )
    if os.environ.get("BENCH_IMPORTS_POLICIES", "1") != "0":
        carrier, _ = Carrier.objects.get_or_create(code="bench-carrier", defaults={"name": "Bench carrier"})
        ppath = Path(folder) / f"policies-{size}.csv"
        pmb = _write_policies(ppath, carrier=carrier.code, individuals=ids, marker=marker) / 1e6
        print(f"Policies import of {size:,} rows ({pmb:.1f} MB CSV)")
        pseconds, _ = _run_import("policies", ppath, actor, {})
        pplain = _plain_limit(Policy, {"policy_number__startswith": f"{marker}-"})
        print(f"  import: {pseconds:.1f} s ({size / pseconds:,.0f} rows/s); plain executemany: {pplain:.2f} s")
        results.append(
            figure(
                BENCH,
                f"policies import {size:,} rows, rows/s",
                value=size / pseconds,
                unit="rows/s",
                limit=size / pplain,
                goal=INDIVIDUALS_GOAL,
                better="higher",
                grows="linear",
                note=f"{pseconds:.1f} s on {connection.vendor}",
            )
        )
        ppath.unlink()
    # The bench's rows go again (the copies the limit inserted too), so that the next run starts alike.
    Policy.objects.filter(policy_number__startswith=f"{marker}-")._raw_delete(Policy.objects.db)
    Individual.objects.filter(lead_source=marker)._raw_delete(Individual.objects.db)
    path.unlink()
    return results
