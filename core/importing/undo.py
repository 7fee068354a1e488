"""What the written chunks of an import did, so that they can be undone: an import stays all or nothing
for the person although it is written in short transactions (docs/imports.md).

Each chunk's entry (the records it created, and the columns of the records it changed as they were
before) is added to the log inside the chunk's own transaction, before it commits; a log kept in a file
(an import job's) is flushed to disk then, so the next try of a job whose worker died finds it and undoes
the chunks that committed. Undoing deletes the created records and writes the changed ones' columns back,
newest chunk first, one short transaction per chunk. An entry whose chunk never committed undoes nothing.
"""

import datetime
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

log = logging.getLogger(__name__)


class _Encoder(DjangoJSONEncoder):
    """Times to the microsecond (``DjangoJSONEncoder`` keeps milliseconds): a restored record is as it was."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


@dataclass
class UndoChunk:
    """What one chunk wrote: ``created`` pks by model label, ``updated`` (label, pk, the columns before)."""

    created: dict[str, list] = field(default_factory=dict)
    updated: list[tuple[str, object, dict]] = field(default_factory=list)

    def record_created(self, instance) -> None:
        self.created.setdefault(instance._meta.label, []).append(instance.pk)

    def record_updated(self, instance, original: dict) -> None:
        pk_name = instance._meta.pk.attname
        self.updated.append((instance._meta.label, instance.pk, {k: v for k, v in original.items() if k != pk_name}))

    def __bool__(self) -> bool:
        return bool(self.created or self.updated)


class UndoLog:
    """The chunks written so far (in memory, and in ``path`` when given)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.entries: list[dict] = []

    def add(self, chunk: UndoChunk) -> None:
        """Keep ``chunk``'s entry; call it inside the chunk's transaction, before it commits."""
        if not chunk:
            return
        entry = json.loads(json.dumps({"created": chunk.created, "updated": chunk.updated}, cls=_Encoder))
        self.entries.append(entry)
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
                out.flush()
                os.fsync(out.fileno())

    def mark(self) -> tuple[int, int]:
        """Where the log ends now, for ``truncate``."""
        size = self.path.stat().st_size if self.path is not None and self.path.exists() else 0
        return len(self.entries), size

    def truncate(self, mark: tuple[int, int]) -> None:
        """Forget the entries added since ``mark()``: their chunk rolled back (it will be written again), and
        its records' ids may be given to someone else's rows, which an undo must never touch."""
        count, size = mark
        del self.entries[count:]
        if self.path is not None and self.path.exists() and self.path.stat().st_size > size:
            with open(self.path, "r+b") as out:
                out.truncate(size)
                out.flush()
                os.fsync(out.fileno())

    def load(self) -> "UndoLog":
        """The entries a previous try left in ``path`` (a line it was writing when it died is skipped)."""
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self.entries.append(json.loads(line))
                except ValueError:
                    log.warning("import undo log %s: an unfinished line skipped", self.path)
        return self

    def undo(self) -> tuple[int, int]:
        """Undo every chunk, newest first, one short transaction each; (records removed, records restored)."""
        removed = restored = 0
        while self.entries:
            entry = self.entries[-1]
            with transaction.atomic():
                for label, pk, values in reversed(entry["updated"]):
                    restored += apps.get_model(label)._default_manager.filter(pk=pk).update(**values)
                for label, pks in entry["created"].items():
                    removed += apps.get_model(label)._default_manager.filter(pk__in=pks).delete()[1].get(label, 0)
            self.entries.pop()
        self.discard()
        return removed, restored

    def discard(self) -> None:
        self.entries = []
        if self.path is not None:
            self.path.unlink(missing_ok=True)
