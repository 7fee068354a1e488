"""CSV export of N individuals: rows/s and peak memory of the export path vs ``COPY (same query) TO STDOUT``.

The export path is ``individuals.services.exports.export_csv_blocks`` (what the streamed response and the
background job both write): on PostgreSQL with masked personal data it passes COPY's CSV through;
the cursor path (SQLite, or full personal data) is measured too. The limit is plain psycopg running
``COPY (the export's own SQL) TO STDOUT (FORMAT csv)`` in the same run. Goals: >= 1/4 of COPY's
rate; peak memory (the process's peak RSS, reset before each path) <= 256 MB.
"""

import time

from bench.report import figure, peak_rss_mb, reset_peak_rss

DEFAULT = 1_000_000
BENCH = "export"
MEMORY_LIMIT_MB = 256


def _timed(blocks) -> tuple[float, int]:
    start = time.perf_counter()
    size = 0
    for block in blocks:
        size += len(block)
    return time.perf_counter() - start, size


def _queryset(size: int):
    from individuals.models import Individual
    from individuals.selectors import individual_list

    # The first ``size`` individuals by id (the bench database may hold more).
    cutoff = Individual.objects.order_by("id").values_list("id", flat=True)[size - 1 : size].first()
    return individual_list(filters={}).filter(pk__lte=cutoff) if cutoff else individual_list(filters={})


def _copy_limit(queryset) -> tuple[float, int]:
    """Plain psycopg: COPY of the export's own SQL, read to the end."""
    from bench.setup import psycopg_connect
    from individuals.services import exports

    sql, params = exports.export_values(queryset, cf_keys=exports.custom_field_keys()).query.sql_with_params()
    with psycopg_connect() as conn:
        import psycopg

        query = psycopg.ClientCursor(conn).mogrify(sql, params)
        start = time.perf_counter()
        size = 0
        with conn.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            for data in copy:
                size += len(data)
        return time.perf_counter() - start, size


def run(size: int = DEFAULT) -> list[dict]:
    from django.db import connection

    from bench.setup import ensure_individuals, sized_database
    from individuals.services import exports

    sized_database(size)  # the search benchmark's database of the same size
    ensure_individuals(size)
    queryset = _queryset(size)
    rows = queryset.count()
    print(f"CSV export of {rows} individuals ({connection.vendor})")
    results = []

    _copy_limit(queryset)  # warms the caches, so that neither side pays the first read from disk
    copy_seconds, copy_bytes = _copy_limit(queryset)
    copy_rate = rows / copy_seconds
    print(f"  COPY (same query) TO STDOUT: {copy_seconds:.2f} s, {copy_bytes / 1e6:.0f} MB, {copy_rate:,.0f} rows/s")

    for label, use_copy in (("export path (COPY pass-through)", True), ("export path (cursor + csv.writer)", False)):
        reset_peak_rss()
        seconds, written = _timed(exports.export_csv_blocks(queryset, use_copy=use_copy))
        peak = peak_rss_mb()
        results.append(
            figure(
                BENCH,
                f"{label} rows/s",
                value=rows / seconds,
                unit="rows/s",
                limit=copy_rate,
                goal=0.25,
                better="higher",
                grows="flat",
                note=f"{seconds:.2f} s, {written / 1e6:.0f} MB",
            )
        )
        results.append(
            figure(
                BENCH, f"{label} peak memory", value=peak, unit="MB", limit=MEMORY_LIMIT_MB, goal=1.0, grows="flat", note="peak RSS of the process"
            )
        )
    return results
