"""Shared import machinery (django-import-export) for every app's CSV/XLSX imports: bounded streaming
readers (``files``), the chunked all-or-nothing run and its report (``base``), and background
import jobs for large uploads (``jobs``)."""

from .base import AllOrNothingResource, ImportReport, export_bytes, import_dataset, import_run
from .files import FORMATS, RowSource
from .loaders import ChunkInstanceLoader

__all__ = ["FORMATS", "AllOrNothingResource", "ChunkInstanceLoader", "ImportReport", "RowSource", "export_bytes", "import_dataset", "import_run"]
