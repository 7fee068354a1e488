"""The Individuals changelist: the advanced-search FilterSet above the list, and counts that stay cheap."""

from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.functional import cached_property

from core.errors import RateLimited

from .. import personal_data
from ..filters import IndividualFilterSet, criteria_authorize, personal_data_in_url

# Counting stops here: past it the page says "more than 10,000" (and offers 200 pages of 50).
COUNT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """Never counts a large table: an unfiltered list takes PostgreSQL's row estimate, and a search
    is counted only up to ``COUNT_UP_TO`` matches (``COUNT(*)`` over ``LIMIT COUNT_UP_TO + 1``)."""

    estimated = False
    more = False

    @cached_property
    def count(self):
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        if connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > COUNT_UP_TO:
                self.estimated = True
                return int(row[0])
        count = qs.order_by()[: COUNT_UP_TO + 1].count()
        if count > COUNT_UP_TO:
            self.more = True
            return COUNT_UP_TO
        return count

    def page(self, number):
        """The page's ids first, then its rows (a deferred join): the ordered search reads only the keys of the
        rows before the page (from an index alone when one holds them), and the table for the page's own rows."""
        qs = self.object_list
        if not hasattr(qs, "query") or qs.query.annotations:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = qs.values("pk")[bottom : bottom + self.per_page]
        # The rows by id alone: the criteria (a policy EXISTS per row...) were checked finding the ids.
        rows = qs.model._default_manager.filter(pk__in=ids)
        if qs.query.order_by:
            rows = rows.order_by(*qs.query.order_by)
        rows.query.select_related = qs.query.select_related
        rows.query.deferred_loading = qs.query.deferred_loading
        return self._get_page(rows, number, self)


class SearchChangeList(ChangeList):
    """A ChangeList whose criteria come from ``IndividualFilterSet`` rather than admin list filters."""

    def __init__(self, request, *args, **kwargs):
        self.filterset = IndividualFilterSet(data=request.GET, queryset=args[0]._default_manager.none(), full_form=True)
        self.pd_in_url = personal_data_in_url(request.GET)
        self.posted_errors = getattr(request, "search_errors", {})  # a malformed SSN etc. posted to the form
        super().__init__(request, *args, **kwargs)
        # Each row's link keeps the search (``?_changelist_filters=``): added once per page in ``url_for_result``
        # rather than by the admin once per row (a parse and a URL resolve each).
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def get_filters_params(self, params=None):
        return {}  # every criterion belongs to the FilterSet

    def get_ordering(self, request, queryset):
        """The same order; with a last-name criterion, by ``last_name || ''``, which no index delivers: PostgreSQL
        then reads the name's matches from its prefix index and sorts them, rather than walking the name index
        in display order through every individual before "Smith" (0.4 s at 200k)."""
        ordering = super().get_ordering(request, queryset)
        if not (self.filterset.is_valid() and self.filterset.form.cleaned_data.get("last_name")):
            return ordering
        surname = Concat(F("last_name"), Value(""))
        return [surname.asc() if o == "last_name" else surname.desc() if o == "-last_name" else o for o in ordering]

    def url_for_result(self, result):
        """The row's change page with the search kept, as the admin writes it, reversed once per page."""
        if not hasattr(self, "_change_url"):
            opts = self.opts
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=("0",), current_app=self.model_admin.admin_site.name)
            path, _, query = add_preserved_filters({"preserved_filters": self.row_filters, "opts": opts}, url).partition("?")
            head, _, tail = path.rpartition("/0/")
            self._change_url = (head, f"/{tail}{'?' if query else ''}{query}")
        head, tail = self._change_url
        return f"{head}/{quote(getattr(result, self.pk_attname))}{tail}"

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        if self.pd_in_url or self.posted_errors or not self.filterset.is_valid():
            return qs.none()
        try:
            criteria_authorize(actor=request.user, data=request.GET, how="admin search")
        except (PermissionDenied, RateLimited) as exc:
            self.posted_errors = {"__all__": [str(exc)]}
            return qs.none()
        self.has_active_filters = bool(
            self.filterset.form.cleaned_data
            and any(
                v not in (None, "", [], ()) and not (hasattr(v, "start") and v.start is None and v.stop is None)
                for v in self.filterset.form.cleaned_data.values()
            )
        )
        # The list shows the last 4 only: leave ciphertexts and hashes in the database.
        return self.filterset.filter_queryset(qs).defer(*personal_data.SECRET_COLUMNS)
