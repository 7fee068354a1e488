"""The API router: ids in URLs are numbers that fit a bigint, so anything else is a 404 at the URL."""

from django.db import models
from rest_framework.routers import SimpleRouter

INTEGER_ID = r"[0-9]{1,18}"


class Router(SimpleRouter):
    """``SimpleRouter`` whose detail routes only match integer ids (for integer primary keys), unless the
    viewset sets its own ``lookup_value_regex``: ``/jobs/abc/`` and ``/jobs/99999999999999999999/`` are 404s,
    never a query with a value the database cannot take."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex") and _integer_pk(viewset):
            lookup_field = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
            return f"(?P<{lookup_prefix}{lookup_field}>{INTEGER_ID})"
        return super().get_lookup_regex(viewset, lookup_prefix)


def _integer_pk(viewset) -> bool:
    queryset = getattr(viewset, "queryset", None)
    if queryset is None or getattr(viewset, "lookup_field", "pk") not in ("pk", "id"):
        return False
    return isinstance(queryset.model._meta.pk, models.AutoField | models.BigAutoField | models.IntegerField)
