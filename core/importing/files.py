"""Reading an uploaded CSV or XLSX as a stream of rows, within bounds.

Nothing reads the whole file into memory: CSV is decoded line by line, XLSX through openpyxl's
read-only mode after a look at the zip's directory (a small file that unpacks to far more is a zip
bomb and is refused before any XML is parsed). Rows, columns and cell lengths are capped by the
``IMPORT_MAX_*`` settings; past a cap reading stops with a ``ValueError`` saying which.
"""

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator

from django.conf import settings

FORMATS = ("csv", "xlsx")


class RowSource:
    """The header and the data rows of one uploaded file, read once, lazily.

    ``content`` is bytes, text, or a binary file object (an upload, an open file). ``deferrable``
    marks an upload large enough to run as a background job (see ``import_run``).
    """

    def __init__(self, content, file_format: str):
        if file_format not in FORMATS:
            raise ValueError(f"Unknown format {file_format!r}; use one of {', '.join(FORMATS)}.")
        self.file_format = file_format
        self.name = getattr(content, "name", "") or ""
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.upload = content
        # Read the file object itself (an upload proxies it; a text wrapper needs the real one).
        self.stream = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else getattr(content, "file", content)
        self.size = getattr(content, "size", None) or _size(self.stream)
        if self.size > settings.IMPORT_MAX_BYTES:
            raise ValueError(f"The file is {_mb(self.size)}; imports take at most {_mb(settings.IMPORT_MAX_BYTES)}.")
        if file_format == "xlsx":
            check_zip(self.stream)
        self.headers: list[str] | None = None
        self._rows: Iterator[list] | None = None

    @property
    def deferrable(self) -> bool:
        from django.core.files.uploadedfile import UploadedFile

        return isinstance(self.upload, UploadedFile) and self.size > settings.IMPORT_JOB_THRESHOLD_BYTES

    def open(self) -> list[str]:
        """Read the header row (the first row that is not empty); ``ValueError`` when there is none."""
        if self._rows is None:
            self.stream.seek(0)
            rows = _csv_rows(self.stream) if self.file_format == "csv" else _xlsx_rows(self.stream)
            self._rows = _bounded(rows)
            for row in self._rows:
                if any(cell not in (None, "") for cell in row):
                    self.headers = ["" if cell is None else str(cell).strip() for cell in row]
                    break
            else:
                raise ValueError("The file is empty: it needs a header row in the export's columns.")
        return self.headers

    def rewind(self) -> list[str]:
        """Read the file again from its start (a second pass over its rows); the header row."""
        self._rows = None
        return self.open()

    def rows(self) -> Iterator[list]:
        """The data rows, each as long as the header (short rows padded; empty rows skipped)."""
        width = len(self.open())
        for number, row in enumerate(self._rows, 1):
            if not any(cell not in (None, "") for cell in row):
                continue
            if len(row) > width:
                if any(cell not in (None, "") for cell in row[width:]):
                    raise ValueError(f"Row {number} has {len(row)} cells; the header has {width}.")
                row = row[:width]
            yield list(row) + [""] * (width - len(row))


def check_zip(stream) -> None:
    """Refuse an XLSX that is not a zip, or that unpacks beyond ``IMPORT_MAX_ZIP_RATIO`` x its size
    (per member) or ``IMPORT_MAX_UNCOMPRESSED_BYTES`` in all."""
    try:
        members = zipfile.ZipFile(stream).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"The file cannot be read as XLSX: {exc}") from None
    finally:
        stream.seek(0)
    total = sum(m.file_size for m in members)
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
        raise ValueError(
            f"The XLSX file unpacks to {_mb(total)}; at most {_mb(settings.IMPORT_MAX_UNCOMPRESSED_BYTES)} is read. Split it, or import it as CSV."
        )
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > settings.IMPORT_MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise ValueError(
                f"The XLSX file unpacks to {member.file_size // max(member.compress_size, 1)} times its "
                f"size ({member.filename}): refused as a possible zip bomb."
            )


def _csv_rows(stream) -> Iterator[list]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError:
        raise ValueError("The file cannot be read as CSV: it is not UTF-8 text.") from None
    except csv.Error as exc:
        raise ValueError(f"The file cannot be read as CSV: {exc}") from None
    finally:
        with contextlib.suppress(ValueError):  # the file was closed first (a pass left unfinished)
            text.detach()


def _xlsx_rows(stream) -> Iterator[list]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a malformed file
        raise ValueError(f"The file cannot be read as XLSX: {exc}") from None
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _bounded(rows: Iterator[list]) -> Iterator[list]:
    max_rows, max_columns, max_chars = (settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELL_CHARS)
    for number, row in enumerate(rows):
        if number > max_rows:  # the header row is row 0
            raise ValueError(f"The file has more than {max_rows:,} rows; split it.")
        if len(row) > max_columns:
            raise ValueError(f"Row {number} has {len(row)} columns; at most {max_columns} are read.")
        for cell in row:
            if isinstance(cell, str) and len(cell) > max_chars:
                raise ValueError(f"Row {number} has a cell longer than {max_chars:,} characters.")
        yield row


def _size(stream) -> int:
    position = stream.tell()
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
