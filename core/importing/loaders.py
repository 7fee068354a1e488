"""Finding the existing record of each imported row: once per chunk, not once per row."""

from django.conf import settings
from django.db import models
from import_export.instance_loaders import ModelInstanceLoader

from core.formulas import formula_unescape


class ChunkInstanceLoader(ModelInstanceLoader):
    """The existing records of one chunk of rows, matched on the resource's ``import_id_fields``
    (model fields; a foreign key by its widget's lookup) with one query per ``IMPORT_CHUNK_ROWS`` keys.

    A key repeated within the chunk finds the record its first row started (``remember``), as
    the row-by-row import found the record its first row had saved: a file never creates a record twice.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        model = resource._meta.model
        self.id_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.attnames = [model._meta.get_field(field.attribute).attname for field in self.id_fields]
        self.instances: dict[tuple, models.Model] = {}
        rows = dataset.dict if dataset is not None and dataset.headers else ()
        keys = list({key for row in rows if (key := self._stored_key(row)) is not None})
        batch = settings.IMPORT_CHUNK_ROWS
        for start in range(0, len(keys), batch):
            part = set(keys[start : start + batch])
            # One IN per field; a stored combination that no row of the chunk has is dropped here.
            lookups = {f"{attname}__in": {key[i] for key in part} for i, attname in enumerate(self.attnames)}
            for instance in self.get_queryset().filter(**lookups).order_by():
                key = tuple(getattr(instance, attname) for attname in self.attnames)
                if key in part:
                    self.instances[key] = instance

    def key(self, row) -> tuple:
        """The row's key as stored (a related record by its primary key); raises what the widgets raise."""
        values = (field.clean(row) for field in self.id_fields)
        return tuple(value.pk if isinstance(value, models.Model) else value for value in values)

    def _stored_key(self, row) -> tuple | None:
        try:
            return self.key({name: formula_unescape(value) for name, value in row.items()})
        except Exception:  # an invalid key is the row's error, reported when the row is imported
            return None

    def get_instance(self, row):
        return self.instances.get(self.key(row))

    def remember(self, row, instance) -> None:
        """``instance`` is the new record of ``row``'s key: later rows with the key find it."""
        self.instances[self.key(row)] = instance
