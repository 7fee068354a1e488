"""A census import of N employees from CSV: rows/s and peak memory, at N/10 and at N.

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
import tempfile
import time
from pathlib import Path

from bench.report import figure, peak_rss_mb, reset_peak_rss

DEFAULT = 1_000_000
BENCH = "imports"
MEMORY_LIMIT_MB = 256
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
