"""CSV export of every individual a search finds: streamed when small, a background job when large.

The rows are one SQL query built from the search queryset (masking and custom-field columns are
SQL expressions), read in chunks, so memory stays flat whatever the size:

- PostgreSQL, masked: ``COPY (query) TO STDOUT (FORMAT csv)``, passed through in ~64 KB blocks;
- otherwise (SQLite, or full personal data, which is decrypted here): a chunked (server-side on
  PostgreSQL) cursor and ``csv.writer``.

The columns are those of ``resources.IndividualResource``, so an export can be edited and imported
back (masked personal-data cells are left unchanged by the import).
"""

import csv
import io
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, CharField, F, QuerySet, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Concat, Trim
from django.utils import timezone

from accounts.models import AuditLog, User
from accounts.services import audit, record_delete
from core.db import UtcText
from core.formulas import formula_safe, formula_safe_sql
from core.jobs import Status, job_claim, job_lease_kept, job_settle, jobs_sweep, on_commit_enqueue

from .. import personal_data
from ..filters import criteria_authorize, criteria_clean, criteria_load, criteria_public
from ..models import INDIVIDUAL_PLAIN_COLUMNS, CustomField, ExportJob, Individual
from ..selectors import individual_list
from .saved_searches import VIEW_INDIVIDUALS

FULL_PERSONAL_DATA = "accounts.view_full_personal_data"
CHUNK_ROWS = 5000
BLOCK_BYTES = 64 * 1024
EXPORT_DIR = "exports"

PLAIN_COLUMNS = list(INDIVIDUAL_PLAIN_COLUMNS)
AGENT_COLUMNS = ["servicing_agent_npn", "servicing_agent_name"]
TIMESTAMP_COLUMNS = ["created_at", "updated_at"]


def custom_field_keys() -> list[str]:
    return list(CustomField.objects.filter(active=True).order_by("order", "name").values_list("key", flat=True))


def export_headers(cf_keys: Iterable[str]) -> list[str]:
    """The CSV header (shared with the import-export resource)."""
    return [*PLAIN_COLUMNS, *personal_data.KINDS, *AGENT_COLUMNS, *(f"cf_{k}" for k in cf_keys), *TIMESTAMP_COLUMNS]


def _masked_expression(kind: str):
    prefix = personal_data.mask(kind, "0000")[:-4]
    last4 = F(f"{kind}_last4")
    return Case(When(**{f"{kind}_last4": ""}, then=Value("")), default=Concat(Value(prefix), last4), output_field=CharField())


def export_values(queryset: QuerySet, *, cf_keys: list[str], reveal: Iterable[str] = ()) -> QuerySet:
    """``queryset`` as the export's rows (a ``values_list`` in header order); SQL does the masking.

    For revealed kinds the column holds the ciphertext: the writer decrypts it.
    """
    annotations = {}
    names = []
    text_columns = {f.name for f in Individual._meta.concrete_fields if isinstance(f, CharField | TextField)}
    for column in PLAIN_COLUMNS:
        if column in text_columns:  # a spreadsheet must not run what a person typed (core.formulas)
            annotations[f"x_{column}"] = formula_safe_sql(F(column))
            names.append(f"x_{column}")
        else:
            names.append(column)
    for kind in personal_data.KINDS:
        alias = f"x_{kind}"
        annotations[alias] = F(f"{kind}_encrypted") if kind in reveal else _masked_expression(kind)
        names.append(alias)
    annotations["x_agent_npn"] = formula_safe_sql(F("servicing_agent__npn"))
    annotations["x_agent_name"] = formula_safe_sql(
        Trim(Concat(F("servicing_agent__first_name"), Value(" "), F("servicing_agent__last_name"), output_field=CharField()))
    )
    names += ["x_agent_npn", "x_agent_name"]
    for key in cf_keys:
        annotations[f"x_cf_{key}"] = formula_safe_sql(KeyTextTransform(key, "custom_fields"))
        names.append(f"x_cf_{key}")
    for column in TIMESTAMP_COLUMNS:
        annotations[f"x_{column}"] = UtcText(column)  # ISO 8601 UTC, the same on both databases
        names.append(f"x_{column}")
    return queryset.annotate(**annotations).values_list(*names)


def _header_line(headers: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(headers)  # RFC 4180: a CR in a value gets quoted
    return buffer.getvalue()


def _copy_blocks(sql: str, params) -> Iterator[bytes]:
    """PostgreSQL: the rows as COPY's own CSV, gathered into ~64 KB blocks."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        query = raw.mogrify(sql, params) if hasattr(raw, "mogrify") else sql
        with raw.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            pending, size = [], 0
            for data in copy:
                pending.append(bytes(data))
                size += len(data)
                if size >= BLOCK_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
            if pending:
                yield b"".join(pending)


def _cursor_blocks(sql: str, params, *, decrypt_columns: list[int], chunk_rows: int) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_rows):
            if decrypt_columns:
                rows = [_decrypted(row, decrypt_columns) for row in rows]
            writer.writerows(rows)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    finally:
        cursor.close()


def _decrypted(row, columns: list[int]) -> list:
    row = list(row)
    for index, kind in columns:
        row[index] = formula_safe(personal_data.display(kind, personal_data.decrypt(row[index]))) if row[index] else ""
    return row


def export_csv_blocks(
    queryset: QuerySet, *, reveal: Iterable[str] = (), chunk_rows: int = CHUNK_ROWS, use_copy: bool | None = None
) -> Iterator[bytes]:
    """The CSV (header first) of every row of ``queryset``, in blocks of bytes; memory stays flat.

    ``reveal``: personal-data kinds written in full (the caller checked the right and audits).
    ``use_copy``: force (True) or avoid (False) the PostgreSQL COPY path; default: when possible.
    """
    reveal = [k for k in personal_data.KINDS if k in set(reveal)]
    cf_keys = custom_field_keys()
    headers = export_headers(cf_keys)
    values = export_values(queryset, cf_keys=cf_keys, reveal=reveal)
    sql, params = values.query.sql_with_params()
    yield _header_line(headers).encode()
    if use_copy is None:
        use_copy = connection.vendor == "postgresql" and not reveal
    if use_copy:
        yield from _copy_blocks(sql, params)
    else:
        decrypt_columns = [(len(PLAIN_COLUMNS) + personal_data.KINDS.index(k), k) for k in reveal]
        yield from _cursor_blocks(sql, params, decrypt_columns=decrypt_columns, chunk_rows=chunk_rows)


# --- requests: stream or job --------------------------------------------------------------------
def export_reveal_kinds(*, actor: User, requested) -> list[str]:
    """The kinds to export in full from a request's ``reveal`` ("all" or a list / comma list).

    Raises ``ValidationError`` for unknown kinds, ``PermissionDenied`` without the right.
    """
    if isinstance(requested, str):
        requested = [k for k in requested.split(",") if k.strip()]
    requested = [k.strip() for k in requested or []]
    if "all" in requested:
        requested = list(personal_data.KINDS)
    unknown = [k for k in requested if k not in personal_data.KINDS]
    if unknown:
        raise ValidationError({"reveal": f"Unknown field(s): {', '.join(unknown)}. Use all or {', '.join(personal_data.KINDS)}."})
    if requested and not actor.has_perm(FULL_PERSONAL_DATA):
        raise PermissionDenied("Exporting full personal data needs the 'view full personal data' right.")
    return [k for k in personal_data.KINDS if k in requested]


def _audit_export(*, actor: User, count: int, criteria: dict, reveal: list[str], how: str, job=None) -> None:
    data = {"count": count, "criteria": criteria_public(criteria), "full_personal_data": reveal, "how": how}
    if job is not None:
        data["job"] = job.pk
    full = f" with full {', '.join(personal_data.LABELS[k] for k in reveal)}" if reveal else " (personal data masked)"
    audit(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        model=Individual,
        object_repr="Individuals CSV export",
        summary=f"Exported {count} individuals as CSV{full}",
        data=data,
    )
    if reveal:
        audit(
            actor=actor,
            action=AuditLog.Action.REVEAL,
            model=Individual,
            object_repr="Individuals CSV export",
            summary=f"Revealed {', '.join(personal_data.LABELS[k] for k in reveal)} of {count} individuals in an export",
            data={"fields": reveal, "count": count},
        )


def individual_export_start(*, actor: User, criteria, reveal=()) -> tuple[Iterator[bytes] | None, ExportJob | None, int]:
    """Start exporting every individual matching ``criteria`` for ``actor``; audited.

    Returns ``(blocks, None, count)`` to stream when the result has at most
    ``settings.INDIVIDUALS_EXPORT_STREAM_MAX`` rows, else ``(None, job, count)`` with an ExportJob
    queued after commit. Raises ``PermissionDenied`` / ``ValidationError`` (field errors) on bad input.
    """
    if not actor.has_perm(VIEW_INDIVIDUALS):
        raise PermissionDenied
    kinds = export_reveal_kinds(actor=actor, requested=reveal)
    stored = criteria_clean(criteria)
    criteria_authorize(actor=actor, data=stored, how="export")
    queryset = individual_list(filters=stored)
    count = queryset.count()
    if count <= settings.INDIVIDUALS_EXPORT_STREAM_MAX:
        _audit_export(actor=actor, count=count, criteria=stored, reveal=kinds, how="stream")
        return export_csv_blocks(queryset, reveal=kinds), None, count
    return None, export_job_create(actor=actor, criteria=stored, reveal=kinds), count


@transaction.atomic
def export_job_create(*, actor: User, criteria: dict, reveal: list[str] = ()) -> ExportJob:
    """Queue a background export (``criteria`` already free of clear personal data); runs after commit."""
    from ..tasks import export_job_run_task

    job = ExportJob(
        owner=actor, criteria=criteria, reveal=list(reveal), lease_until=timezone.now() + timedelta(seconds=settings.JOB_QUEUED_LEASE_SECONDS)
    )
    job.full_clean()
    job.save()
    on_commit_enqueue(export_job_run_task, [job.pk])
    return job


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Write a queued job's CSV under MEDIA_ROOT/exports/ and mark it succeeded (or failed, with the reason).

    A ``core.jobs.Job``: only a queued job is claimed (``job_claim``), its lease renewed while the file is
    written; the file goes to a temporary name, renamed when complete, and the job is settled (and the
    export audited) only by the try that still holds it. A dead worker's job is queued again by the sweep.
    """
    lease = settings.JOB_LEASE_SECONDS
    job = job_claim(ExportJob.objects.select_related("owner"), job_id, lease_seconds=lease)
    if job is None:
        return None
    relative = f"{EXPORT_DIR}/{timezone.now():%Y%m%d}-{job.pk}-{secrets.token_hex(8)}.csv.enc"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_suffix(f".{uuid.uuid4().hex}.part")
    try:
        queryset = individual_list(filters=criteria_load(job.criteria, job.criteria_version))
        # Quoted cells may hold newlines: the number of records is a COUNT, not the file's lines.
        rows = queryset.count()
        with job_lease_kept(job, lease_seconds=lease):
            _write_encrypted(temporary, export_csv_blocks(queryset, reveal=job.reveal))
        os.replace(temporary, target)
    except Exception as exc:  # the reason is shown on the job; the worker log has the traceback
        temporary.unlink(missing_ok=True)
        job_settle(job, Status.FAILED, reason=str(exc)[:2000] or type(exc).__name__)
        raise
    with transaction.atomic():
        now = timezone.now()
        if job_settle(
            job,
            Status.SUCCEEDED,
            now=now,
            row_count=rows,
            file_path=relative,
            expires_at=now + timedelta(hours=settings.INDIVIDUALS_EXPORT_EXPIRY_HOURS),
        ):
            _audit_export(actor=job.owner, count=rows, criteria=job.criteria, reveal=job.reveal, how="job", job=job)
        else:  # the sweep gave the job to a newer try meanwhile: its file, not this one
            transaction.on_commit(lambda: target.unlink(missing_ok=True))
    job.refresh_from_db()
    return job


def export_jobs_sweep(*, now=None) -> int:
    """Beat (every 15 s): queue again the export jobs nobody holds (a dead worker's, or a lost message's),
    each once (``core.jobs.jobs_sweep``). Returns how many."""
    from ..tasks import export_job_run_task

    return jobs_sweep(ExportJob, enqueue=export_job_run_task.delay, queued_lease_seconds=settings.JOB_QUEUED_LEASE_SECONDS, now=now)


def _write_encrypted(path: Path, blocks: Iterable[bytes]) -> None:
    """The blocks encrypted at rest (one Fernet token per line, personal-data keys), readable by the owner only."""
    fernet = personal_data.fernet()
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        for block in blocks:
            if block:
                out.write(fernet.encrypt(block) + b"\n")


def _read_encrypted(path: Path) -> Iterator[bytes]:
    fernet = personal_data.fernet()
    with open(path, "rb") as encrypted:
        for line in encrypted:
            yield fernet.decrypt(line.rstrip(b"\n"))


def export_job_download(*, actor: User, job: ExportJob) -> Iterator[bytes]:
    """The finished job's CSV, decrypted as it streams, for its owner only; every download is audited.

    Raises ``PermissionDenied`` for anyone else, ``ValidationError`` when it is not ready, expired or gone.
    """
    if job.owner_id != actor.pk or not actor.has_perm(VIEW_INDIVIDUALS):
        raise PermissionDenied("Only the user who asked for an export may download it.")
    if job.status != Status.SUCCEEDED:
        raise ValidationError({"status": f"The export is {job.get_status_display().lower()}, not ready to download."})
    path = Path(settings.MEDIA_ROOT) / (job.file_path or "missing")
    if job.expired or not path.is_file():
        raise ValidationError({"status": "The export has expired; export again."})
    full = f" with full {', '.join(personal_data.LABELS[k] for k in job.reveal)}" if job.reveal else ""
    audit(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        obj=job,
        summary=f"Downloaded export #{job.pk}{full}",
        data={"job": job.pk, "count": job.row_count, "full_personal_data": job.reveal, "how": "download"},
    )
    return _read_encrypted(path)


def export_jobs_expire(*, now=None) -> int:
    """Delete the files of succeeded exports past their expiry (the job then shows Expired); the number expired.

    Each file is claimed by a conditional update (its path cleared), so two sweeps never race on one file.
    """
    now = now or timezone.now()
    expired = 0
    due = ExportJob.objects.filter(status=Status.SUCCEEDED, expires_at__lte=now).exclude(file_path="")
    for pk, relative in due.values_list("pk", "file_path"):
        if ExportJob.objects.filter(pk=pk, file_path=relative).update(file_path=""):
            (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)
            expired += 1
    return expired


@transaction.atomic
def export_job_delete(*, actor: User, job: ExportJob) -> None:
    """Delete the actor's own export job and, once committed, its file (audited)."""
    if job.owner_id != actor.pk:
        raise PermissionDenied
    path = Path(settings.MEDIA_ROOT) / job.file_path if job.file_path else None
    record_delete(actor=actor, instance=job)
    if path is not None:
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
