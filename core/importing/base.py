"""The import itself: one resource base that makes an import all or nothing and audits it, and
``import_run``, which feeds a file's rows to the resource in chunks so that memory stays flat
whatever the file's length, and reports every row's errors in one shape for admin, API and jobs.
"""

import copy
import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import resources, widgets

from core.audit import audit
from core.busy import is_busy
from core.formulas import formula_safe_row, formula_unescape
from core.models import AuditLog

from .files import FORMATS, RowSource
from .loaders import ChunkInstanceLoader
from .undo import UndoChunk, UndoLog

log = logging.getLogger(__name__)


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import rolls back entirely when any row is invalid; audits a real import.

    Its exports (CSV, XLSX) write no live formula (``core.formulas``); its imports read such cells back.

    With ``Meta.use_bulk`` (and ``instance_loader_class = ChunkInstanceLoader``) rows are still read,
    cleaned and validated one by one, each with its own errors, but no row queries the database: the
    existing records of a chunk are found in one query, uniqueness is the loader's (rows are matched
    on ``import_id_fields``, which must cover the model's unique constraints), and a foreign key is
    not looked up again once its widget found it. The chunk's valid rows are then written together
    by ``save_chunk``, without a savepoint per row.
    """

    def export_resource(self, instance, selected_fields=None, **kwargs):
        return formula_safe_row(super().export_resource(instance, selected_fields, **kwargs))

    def import_row(self, row, instance_loader, **kwargs):
        for key, value in row.items():
            row[key] = formula_unescape(value)
        return super().import_row(row, instance_loader, **kwargs)

    undo: UndoChunk | None = None  # set by import_run while a chunk is written: what it wrote, to undo it
    # Bulk mode, an import job's write: the chunk's rows are read, cleaned and validated outside any transaction
    # (``import_data(..., prepare=True)``) and kept here; ``save_pending`` writes them in the chunk's transaction.
    pending: tuple[list, list] | None = None
    _preparing = False

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """``use_transactions=False`` with ``dry_run`` checks the rows without writing (or locking) anything;
        ``prepare=True`` (bulk mode) readies the rows to write without writing them (``save_pending`` does)."""
        if kwargs.pop("prepare", False):
            kwargs.pop("collect_failed_rows", None)
            kwargs.pop("rollback_on_validation_errors", None)
            self._preparing, self.pending = True, None
            try:
                return self.import_data_inner(dataset, False, raise_errors, False, False, **kwargs)
            finally:
                self._preparing = False
        if dry_run and use_transactions is False:  # import_data would open one for a dry run: its inner loop alone
            kwargs.pop("collect_failed_rows", None)
            kwargs.pop("rollback_on_validation_errors", None)
            return self.import_data_inner(dataset, True, raise_errors, False, False, **kwargs)
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        if self.undo is not None and not self._meta.use_bulk:
            self._record(instance)

    def _record(self, instance) -> None:
        original = getattr(instance, "_import_original", {})
        if original.get(instance._meta.pk.attname) is None:
            self.undo.record_created(instance)
        else:
            self.undo.record_updated(instance, original)

    def before_import(self, dataset, **kwargs):
        self.actor = kwargs.get("user")
        self._queued = set()  # bulk mode: the records of this chunk already queued for save_chunk
        self._memoize_foreign_keys(dataset)

    def _memoize_foreign_keys(self, dataset=None):
        """Look each foreign key value up once per chunk, not once per row (plain lookups only); in bulk
        mode the chunk's values of each such column are found together, in one query."""
        memo = {}
        columns = set(dataset.headers or ()) if dataset is not None and self._meta.use_bulk else set()
        for resource_field in self.fields.values():
            widget = resource_field.widget
            plain = (
                isinstance(widget, widgets.ForeignKeyWidget)
                and not widget.use_natural_foreign_keys
                and (
                    type(widget).get_queryset is widgets.ForeignKeyWidget.get_queryset
                    and type(widget).get_lookup_kwargs is widgets.ForeignKeyWidget.get_lookup_kwargs
                )
            )
            if plain:
                widget.clean = _memoized(type(widget).clean.__get__(widget), memo, id(widget))
                if resource_field.column_name in columns:
                    _prefill(memo, id(widget), widget, dataset[resource_field.column_name])

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("chunk"):
            return  # import_run audits the whole file once
        if not kwargs.get("dry_run") and not result.has_errors() and not result.has_validation_errors():
            totals = {k: v for k, v in result.totals.items() if v}
            audit(
                actor=self.actor,
                action=AuditLog.Action.IMPORT,
                model=self._meta.model,
                summary=f"Imported {len(dataset)} rows: {totals}",
                data={"totals": totals, "file": kwargs.get("file_name") or ""},
            )

    def after_init_instance(self, instance, new, row, **kwargs):
        if not hasattr(instance, "_import_original"):  # a record repeated in a chunk: as it was before its first row
            instance._import_original = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}

    def changed_fields(self, instance) -> list[str] | None:
        """The fields this row changed (None for a new record), for the audit row of its save."""
        if instance._state.adding:
            return None
        return self._changed(instance)

    def _changed(self, instance) -> list[str]:
        original = getattr(instance, "_import_original", {})
        return [f.name for f in instance._meta.concrete_fields if f.attname in original and original[f.attname] != getattr(instance, f.attname)]

    def without_diff(self) -> "AllOrNothingResource":
        """This resource for an import nobody previews (``import_run``): rows are not diffed (a copy of
        each record) for a preview; an unchanged row is still skipped (``skip_row``)."""
        self._meta = copy.copy(self._meta)  # this instance's options, not the class's
        self._meta.skip_diff = self._meta.skip_html_diff = True
        return self

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self._meta.skip_unchanged and self._meta.skip_diff and not import_validation_errors:
            return not self._changed(instance)  # no copy of the original without a diff: the values at init
        return super().skip_row(instance, original, row, import_validation_errors)

    def get_or_init_instance(self, instance_loader, row):
        self._loader = instance_loader
        instance, new = super().get_or_init_instance(instance_loader, row)
        if new and isinstance(instance_loader, ChunkInstanceLoader):
            instance_loader.remember(row, instance)
        return instance, new

    def _loader_instances(self) -> list:
        """Bulk mode: the existing records the chunk's loader found (``ChunkInstanceLoader``)."""
        loader = getattr(self, "_loader", None)
        return [i for i in loader.instances.values() if i.pk is not None] if isinstance(loader, ChunkInstanceLoader) else []

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if not self._meta.use_bulk:
            return super().validate_instance(instance, import_validation_errors, validate_unique)
        # No query per row: uniqueness is the chunk loader's; a foreign key set here was found by its
        # widget or read from the database (a missing required one is still an error).
        errors = dict(import_validation_errors or {})
        exclude = set(errors) | {f.name for f in instance._meta.concrete_fields if f.is_relation and getattr(instance, f.attname) is not None}
        if self._meta.clean_model_instances:
            try:
                instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        if self._meta.use_bulk:
            if id(instance) in self._queued:
                return  # a key repeated in the chunk: its record is written once, as the last row left it
            self._queued.add(id(instance))
            is_create = instance.pk is None
        super().save_instance(instance, is_create, row, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Bulk mode: a chunk's new and changed records are written together, by ``save_chunk`` (not
        when a row of the chunk is invalid: the chunk is rolled back then)."""
        failed = result is not None and (result.has_errors() or result.has_validation_errors())
        try:
            if self._preparing:  # written by save_pending, in the chunk's transaction
                if not failed and (self.create_instances or self.update_instances):
                    created, updated = self.pending or ([], [])
                    self.pending = ([*created, *self.create_instances], [*updated, *self.update_instances])
            elif (self.create_instances or self.update_instances) and (using_transactions or not dry_run) and not failed:
                try:
                    self.save_chunk(created=self.create_instances, updated=self.update_instances)
                except Exception as e:
                    if is_busy(e):
                        raise  # not the rows' fault: the chunk is written again (``import_run``)
                    self.handle_import_error(result, e, raise_errors)
                else:
                    if self.undo is not None and not dry_run:
                        for instance in [*self.create_instances, *self.update_instances]:
                            self._record(instance)
        finally:
            self.create_instances.clear()
            self.update_instances.clear()
            self._queued.clear()

    def prepare_pending(self) -> None:
        """Bulk mode: what ``save_chunk`` needs that writes nothing (``prepare_chunk``), done for the readied
        records before the chunk's transaction opens. Raises what ``prepare_chunk`` raises."""
        if self.pending and (self.pending[0] or self.pending[1]):
            self.prepare_chunk(created=self.pending[0], updated=self.pending[1])

    def prepare_chunk(self, *, created: list, updated: list) -> None:
        """Bulk mode, optional: ready ``created`` and ``updated`` for ``save_chunk`` without writing (e.g.
        encrypt), so that the chunk's transaction holds its writes only; ``save_chunk`` then uses it."""

    def save_pending(self) -> None:
        """Bulk mode: write the records ``import_data(..., prepare=True)`` readied (``save_chunk``), recording
        them in ``undo``; call it in the chunk's transaction. Raises what ``save_chunk`` raises."""
        created, updated = self.pending or ([], [])
        self.pending = None
        if created or updated:
            self.save_chunk(created=created, updated=updated)
            if self.undo is not None:
                for instance in [*created, *updated]:
                    self._record(instance)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Written with the new records (``bulk_create``)."""

    def save_chunk(self, *, created: list, updated: list) -> None:
        """Bulk mode: write one chunk's valid rows through the app's services: ``created`` new records,
        ``updated`` changed ones (each validated already, see the class)."""
        raise NotImplementedError


def _prefill(memo: dict, key: int, widget, cells) -> None:
    """The records a column's cells name, found in one query (a cell whose text is not exactly the stored
    value is left to the widget: looked up, or reported, when its row is imported)."""
    values = {formula_unescape(c) for c in cells if isinstance(c, str) and c} - {None}
    if not values:
        return
    field = widget.model._meta.get_field(widget.field) if widget.field != "pk" else widget.model._meta.pk
    lookups = values if not field.get_internal_type().endswith(("IntegerField", "AutoField")) else {v for v in values if v.isdigit()}
    for start in range(0, len(lookups), 1000):
        part = list(lookups)[start : start + 1000]
        for obj in widget.get_queryset(None, None).filter(**{f"{widget.field}__in": part}):
            text = str(getattr(obj, widget.field))
            if text in values:
                memo[key, text] = obj


def _memoized(clean, memo: dict, key: int):
    def cached(value, row=None, **kwargs):
        if (key, value) not in memo:
            memo[key, value] = clean(value, row, **kwargs)
        return memo[key, value]

    return cached


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    written: bool
    rows: int
    totals: dict[str, int]
    # [{"row": 3, "errors": {"ssn": ["..."]}}, ...]: rows are numbered from 1, the header excluded;
    # at most IMPORT_MAX_REPORTED_ERRORS of them, ``error_rows`` counts them all.
    row_errors: list[dict] = field(default_factory=list)
    error_rows: int = 0
    job: int | None = None  # a large upload runs as this ImportJob; the report is then on the job

    def as_dict(self) -> dict:
        return asdict(self)


def import_dataset(content, file_format: str) -> RowSource:
    """The rows of an uploaded CSV or XLSX (bytes, text or a file object), read lazily within the
    ``IMPORT_MAX_*`` bounds; ``ValueError`` for an unknown format or a file that is refused."""
    return RowSource(content, file_format)


def import_run(
    *,
    resource: AllOrNothingResource,
    kind: str,
    dataset: RowSource,
    actor,
    dry_run: bool,
    file_format: str,
    progress: Callable[[int], object] | None = None,
    undo_log: UndoLog | None = None,
    chunk_written: Callable[[int], bool] | None = None,
    finish: Callable[[ImportReport], bool] | None = None,
) -> ImportReport:
    """Run one import through ``resource``, all or nothing, and report every row's errors.

    First every row is checked, ``IMPORT_CHUNK_ROWS`` at a time, writing nothing and opening no write
    transaction (a dry run ends there, and so does a file with an invalid row). Then the rows are written:

    - a small file (run here, for a request) in one transaction: it is short, the rows being checked;
    - an import job's file (``undo_log`` given) in one short transaction per chunk. Each chunk adds what it
      wrote to ``undo_log`` before it commits; if a later chunk fails, the chunks already written are undone
      (``core.importing.undo``), so the person gets all or nothing. ``chunk_written(rows)`` runs in each
      chunk's transaction (False: stop, rolling the chunk back: the job was given to another try), and
      ``finish(report)`` in the last one, with the audit (False: likewise). What the chunks asked to do
      after commit (``transaction.on_commit``: tasks, messages) is done once the last chunk committed.

    An upload larger than ``IMPORT_JOB_THRESHOLD_BYTES`` is not run here: it is queued as an ``ImportJob``
    (the report says which). Raises ``ValueError`` when the file cannot be read or passes a bound; nothing
    is written then. ``progress(rows)`` is told the rows checked so far after each chunk.
    """
    if dataset.deferrable:
        from .jobs import import_job_create

        job = import_job_create(actor=actor, resource=resource, kind=kind, source=dataset, dry_run=dry_run)
        return ImportReport(kind=kind, dry_run=dry_run, written=False, rows=0, totals={}, job=job.pk)
    dataset.open()
    resource.without_diff()
    file_name = dataset.name or f"{kind}.{file_format}"
    checked = _Pass(resource, dataset, actor=actor, file_name=file_name)
    checked.run(write=False, progress=progress)
    report = ImportReport(
        kind=kind,
        dry_run=dry_run,
        written=False,
        rows=checked.rows,
        totals={k: v for k, v in checked.totals.items() if v},
        row_errors=checked.row_errors,
        error_rows=checked.error_rows,
    )
    if dry_run or checked.error_rows:
        return report
    if undo_log is None:
        with transaction.atomic():
            written = _Pass(resource, dataset, actor=actor, file_name=file_name)
            written.run(write=True)
            if written.error_rows:
                transaction.set_rollback(True)
            else:
                _audit_import(actor, resource, written, file_name)
        return written.report(kind)
    return _write_in_chunks(
        resource, dataset, kind=kind, actor=actor, file_name=file_name, undo_log=undo_log, chunk_written=chunk_written, finish=finish
    )


class ImportStopped(Exception):
    """The import job was given to another try while this one wrote: its chunk rolled back, nothing undone."""


class _Pass:
    """One pass over the file's rows, checking (``write=False``) or writing them, chunk by chunk."""

    def __init__(self, resource, dataset: RowSource, *, actor, file_name: str):
        self.resource, self.dataset, self.actor, self.file_name = resource, dataset, actor, file_name
        self.headers = dataset.rewind()
        self.rows, self.totals, self.row_errors, self.error_rows = 0, {}, [], 0
        self.longest_transaction = 0.0  # seconds: the longest chunk transaction of a write in chunks

    def failed(self, exc: Exception) -> None:
        """The chunk's write failed for a reason that is not a row's: reported as the file's error (row 0)."""
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        self.error_rows += 1
        self.row_errors.append({"row": 0, "errors": {"__all__": messages}})

    def state(self) -> tuple:
        return self.rows, dict(self.totals), len(self.row_errors), self.error_rows

    def restore(self, state: tuple) -> None:
        """Back to ``state()``: the chunk written since rolled back."""
        self.rows, totals, reported, self.error_rows = state
        self.totals = dict(totals)
        del self.row_errors[reported:]

    def chunks(self):
        rows_iter = self.dataset.rows()
        while chunk := list(itertools.islice(rows_iter, settings.IMPORT_CHUNK_ROWS)):
            yield chunk

    def run(self, *, write: bool, progress=None) -> None:
        for chunk in self.chunks():
            self.chunk(chunk, write=write)
            if progress is not None:
                progress(self.rows)

    def chunk(self, chunk: list, *, write: bool, prepare: bool = False) -> None:
        """Check (``write=False``) or write one chunk's rows; ``prepare`` (bulk mode): ready them, to be
        written by ``resource.save_pending()`` in the chunk's transaction."""
        result = self.resource.import_data(
            tablib.Dataset(*chunk, headers=self.headers),
            dry_run=not write,
            use_transactions=write and not prepare,
            user=self.actor,
            file_name=self.file_name,
            chunk=True,
            **({"prepare": True} if prepare else {}),
        )
        errors = _row_errors(result, offset=self.rows)
        self.error_rows += len(errors)
        self.row_errors.extend(errors[: max(0, settings.IMPORT_MAX_REPORTED_ERRORS - len(self.row_errors))])
        if not errors:
            for key, value in result.totals.items():
                self.totals[key] = self.totals.get(key, 0) + value
        self.rows += len(chunk)

    def report(self, kind: str) -> ImportReport:
        return ImportReport(
            kind=kind,
            dry_run=False,
            written=not self.error_rows,
            rows=self.rows,
            totals={k: v for k, v in self.totals.items() if v},
            row_errors=self.row_errors,
            error_rows=self.error_rows,
        )


def _audit_import(actor, resource, written: _Pass, file_name: str) -> None:
    totals = {k: v for k, v in written.totals.items() if v}
    audit(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        model=resource._meta.model,
        summary=f"Imported {written.rows} rows: {totals}",
        data={"totals": totals, "file": file_name},
    )


def _write_in_chunks(resource, dataset, *, kind, actor, file_name, undo_log: UndoLog, chunk_written, finish) -> ImportReport:
    """The checked rows written one short transaction per chunk (see ``import_run``)."""
    written = _Pass(resource, dataset, actor=actor, file_name=file_name)
    deferred = []  # (function, robust): what the chunks asked to do after commit, done after the last one
    chunks = written.chunks()
    chunk = next(chunks, None)
    if chunk is None:  # a header and no rows: nothing to write, the import is done
        with transaction.atomic():
            _audit_import(actor, resource, written, file_name)
            if finish is not None and not finish(written.report(kind)):
                raise ImportStopped
        return written.report(kind)

    bulk = resource._meta.use_bulk

    def write(chunk, following) -> None:
        """One chunk in one short transaction (see ``import_run``). In bulk mode its rows are read, cleaned and
        validated first, outside it: the transaction holds the chunk's writes only."""
        if bulk:
            written.chunk(chunk, write=True, prepare=True)
            if written.error_rows:  # a row another writer made invalid since it was checked
                raise _RowsInvalid
            try:
                resource.prepare_pending()
            except Exception as exc:
                if is_busy(exc):
                    raise
                written.failed(exc)
                raise _RowsInvalid from exc
        started = time.perf_counter()
        with transaction.atomic():
            connection = transaction.get_connection()
            before = len(connection.run_on_commit)
            resource.undo = UndoChunk()
            if bulk:
                try:
                    resource.save_pending()
                except Exception as exc:
                    if is_busy(exc):
                        raise
                    written.failed(exc)  # not a row's fault: the database's, a service's
                    raise _RowsInvalid from exc
            else:
                written.chunk(chunk, write=True)
            if written.error_rows:  # a row another writer made invalid since it was checked
                raise _RowsInvalid
            undo_log.add(resource.undo)
            if chunk_written is not None and not chunk_written(written.rows):
                raise ImportStopped
            if following is None:
                _audit_import(actor, resource, written, file_name)
                if finish is not None and not finish(written.report(kind)):
                    raise ImportStopped
            deferred.extend((func, robust) for _, func, robust in connection.run_on_commit[before:])
            del connection.run_on_commit[before:]
        seconds = time.perf_counter() - started
        written.longest_transaction = max(written.longest_transaction, seconds)
        log.debug("import of %s: a chunk of %s rows written in one transaction of %.3f s", kind, len(chunk), seconds)

    try:
        while chunk is not None:
            following = next(chunks, None)
            _retried_when_busy(lambda: write(chunk, following), written, undo_log)  # noqa: B023 (called at once)
            chunk = following
    except ImportStopped:
        raise
    except _RowsInvalid:
        _undo(undo_log, kind=kind, actor=actor, model=resource._meta.model)
        failures = [r for r in written.row_errors if not r["row"]]  # not a row's fault: the database's, a service's
        if failures:
            messages = "; ".join(" ".join(m for ms in r["errors"].values() for m in ms) for r in failures)
            raise ImportUndone(
                f"Writing stopped after {written.rows - len(chunk):,} rows: {messages}. The rows written before were undone: nothing was imported."
            ) from None
        return written.report(kind)
    except BaseException:
        try:
            _undo(undo_log, kind=kind, actor=actor, model=resource._meta.model)
        except Exception:  # the database went away too: the log stays for the job's next try
            log.exception("import of %s: its written chunks could not be undone now", kind)
        raise
    finally:
        resource.undo = None
    undo_log.discard()
    for func, robust in deferred:
        transaction.on_commit(func, robust=robust)
    return written.report(kind)


class _RowsInvalid(Exception):
    pass


def _retried_when_busy(write: Callable[[], None], written: "_Pass", undo_log: UndoLog) -> None:
    """``write()`` (one chunk's transaction), tried again when the database was busy: SQLite's "database is
    locked" after its busy timeout, PostgreSQL's lock timeout (``core.busy.is_busy``). Such a chunk rolled
    back whole, so it is written again as if for the first time (its counts and its undo entry taken
    back), after a short pause that doubles each time, at most ``IMPORT_CHUNK_BUSY_RETRIES`` times."""
    state, mark = written.state(), undo_log.mark()
    for attempt in itertools.count():
        try:
            write()
            return
        except Exception as exc:
            if not is_busy(exc) or attempt >= settings.IMPORT_CHUNK_BUSY_RETRIES:
                raise
            written.restore(state)
            undo_log.truncate(mark)
            pause = min(settings.IMPORT_CHUNK_BUSY_PAUSE_SECONDS * 2**attempt, 5.0)
            log.warning("import chunk after row %s: the database was busy (%s); writing it again in %.1f s", written.rows, exc, pause)
            time.sleep(pause * (0.5 + random.random() / 2))


class ImportUndone(Exception):
    """Writing failed for a reason that is not a row's (the database refused, a service broke): undone."""


def import_undo(undo_log: UndoLog, *, kind: str, actor, model) -> None:
    """Undo what an import's written chunks did (``undo_log``), and say so in the audit log."""
    removed, restored = undo_log.undo()
    if removed or restored:
        log.warning("import of %s undone: %s records removed, %s restored", kind, removed, restored)
        audit(
            actor=actor,
            action=AuditLog.Action.IMPORT,
            model=model,
            summary=f"Import of {kind} undone: {removed} new records removed, {restored} changed records restored",
            data={"removed": removed, "restored": restored},
        )


_undo = import_undo  # what a failed write calls (a test stands a killed worker in for it)


def _row_errors(result, *, offset: int) -> list[dict]:
    errors = [
        {
            "row": offset + row.number,
            "errors": {k: [str(m) for m in v] for k, v in row.error.message_dict.items()}
            if hasattr(row.error, "error_dict")
            else {"__all__": [str(m) for m in row.error.messages]},
        }
        for row in result.invalid_rows
    ]
    errors += [{"row": offset + number, "errors": {"__all__": [str(e.error) for e in errs]}} for number, errs in result.row_errors()]
    errors += [{"row": 0, "errors": {"__all__": [str(e.error)]}} for e in result.base_errors]
    return sorted(errors, key=lambda r: r["row"])


def export_bytes(dataset: tablib.Dataset, file_format: str) -> bytes:
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
    data = dataset.export(file_format)
    return data.encode() if isinstance(data, str) else data
