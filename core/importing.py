"""Shared import machinery (django-import-export) for every app's CSV/XLSX imports.

One resource base that makes an import all or nothing and audits it, one way to read an uploaded
file, and one report shape (row numbers and field errors) for admin, API and jobs.
"""
from dataclasses import asdict, dataclass, field

import tablib
from import_export import resources

from core.audit import audit
from core.models import AuditLog

FORMATS = ("csv", "xlsx")


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import rolls back entirely when any row is invalid; audits a real import."""

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def before_import(self, dataset, **kwargs):
        self.actor = kwargs.get("user")

    def after_import(self, dataset, result, **kwargs):
        if not kwargs.get("dry_run") and not result.has_errors() and not result.has_validation_errors():
            totals = {k: v for k, v in result.totals.items() if v}
            audit(actor=self.actor, action=AuditLog.Action.IMPORT, model=self._meta.model,
                  summary=f"Imported {len(dataset)} rows: {totals}",
                  data={"totals": totals, "file": kwargs.get("file_name") or ""})

    def after_init_instance(self, instance, new, row, **kwargs):
        names = [f.attname for f in self._meta.model._meta.concrete_fields]
        instance._import_original = {n: getattr(instance, n) for n in names}

    def changed_fields(self, instance) -> list[str] | None:
        """The fields this row changed (None for a new record), for the audit row of its save."""
        if instance._state.adding:
            return None
        original = getattr(instance, "_import_original", {})
        return [f.name for f in instance._meta.concrete_fields
                if f.attname in original and original[f.attname] != getattr(instance, f.attname)]


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    written: bool
    rows: int
    totals: dict[str, int]
    # [{"row": 3, "errors": {"ssn": ["..."]}}, ...]: rows are numbered from 1, the header excluded.
    row_errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def import_dataset(content: bytes | str, file_format: str) -> tablib.Dataset:
    """A tablib Dataset from the uploaded bytes; ``ValueError`` for an unknown format or unreadable file."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
    if file_format == "csv" and isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    try:
        return tablib.Dataset().load(content, format=file_format)
    except Exception as exc:  # tablib raises several types for a malformed file
        raise ValueError(f"The file cannot be read as {file_format.upper()}: {exc}") from None


def import_run(*, resource: AllOrNothingResource, kind: str, dataset: tablib.Dataset, actor, dry_run: bool,
               file_format: str) -> ImportReport:
    """Run one import through ``resource`` and report every row's errors; nothing written if any."""
    result = resource.import_data(dataset, dry_run=dry_run, user=actor, file_name=f"{kind}.{file_format}")
    row_errors = [
        {"row": row.number, "errors": {k: [str(m) for m in v] for k, v in row.error.message_dict.items()}
         if hasattr(row.error, "error_dict") else {"__all__": [str(m) for m in row.error.messages]}}
        for row in result.invalid_rows
    ]
    row_errors += [{"row": number, "errors": {"__all__": [str(e.error) for e in errors]}}
                   for number, errors in result.row_errors()]
    row_errors += [{"row": 0, "errors": {"__all__": [str(e.error)]}} for e in result.base_errors]
    row_errors.sort(key=lambda r: r["row"])
    return ImportReport(kind=kind, dry_run=dry_run, written=not dry_run and not row_errors, rows=len(dataset),
                        totals={k: v for k, v in result.totals.items() if v}, row_errors=row_errors)


def export_bytes(dataset: tablib.Dataset, file_format: str) -> bytes:
    if file_format not in FORMATS:
        raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
    data = dataset.export(file_format)
    return data.encode() if isinstance(data, str) else data
