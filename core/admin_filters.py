"""Admin changelist filters shared by the apps: one filter definition for the admin and the API."""

from django.contrib import admin
from django.http import QueryDict


def filterset_list_filter(filterset_class, name: str, title: str, choices):
    """A changelist filter that applies ``filterset_class``'s ``name`` filter: one definition for admin and API."""

    class Filter(admin.SimpleListFilter):
        parameter_name = name

        def lookups(self, request, model_admin):
            return list(choices() if callable(choices) else choices)

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            data = QueryDict(mutable=True)
            data.setlist(name, [self.value()])  # a one-value filter reads the value, a many-value one the list
            return filterset_class(data, queryset).qs

    Filter.title = title
    return Filter


class SearchableListFilter(admin.SimpleListFilter):
    """A filter over too many choices to list (hundreds of employer groups): a search box, then the few
    choices that match, as links; the chosen one stays shown. No script: the box is a GET form.

    Set ``title``, ``parameter_name``, ``search_fields`` and ``choices_queryset()``; ``field_path`` is
    the lookup the value filters on (``None``: ``queryset()`` leaves the list alone, e.g. when a
    FilterSet applies the parameter itself). ``searchable_list_filter`` builds one.
    """

    template = "admin/agencydesk/searchable_filter.html"
    shown = 8
    search_fields: tuple[str, ...] = ("name",)
    field_path: str | None = None

    def __init__(self, request, params, model, model_admin):
        self.query_parameter = f"{self.parameter_name}__find"
        found = params.pop(self.query_parameter, None)
        self.query = ((found[-1] if isinstance(found, list) else found) or "").strip()[:100]
        self.more = 0
        super().__init__(request, params, model, model_admin)
        # What the search form sends again besides its box: the list's other criteria, never its page.
        self.kept_params = [(name, value) for name, values in request.GET.lists() if name not in (self.query_parameter, "p", "e") for value in values]

    def choices_queryset(self, request):
        raise NotImplementedError

    def has_output(self):
        return True  # the search box, even before anything matches

    def expected_parameters(self):
        return [self.parameter_name, self.query_parameter]

    def lookups(self, request, model_admin):
        from functools import reduce
        from operator import or_

        from django.db.models import Q

        choices = self.choices_queryset(request)
        found = choices.filter(reduce(or_, (Q(**{f"{f}__icontains": self.query}) for f in self.search_fields))) if self.query else choices
        rows = list(found[: self.shown + 1])
        if len(rows) > self.shown:
            rows = rows[: self.shown]
            self.more = found.count() - self.shown
        chosen = self.value()
        if chosen and str(chosen).isdigit() and all(str(row.pk) != chosen for row in rows):
            rows = [*choices.filter(pk=chosen)[:1], *rows]
        return [(str(row.pk), str(row)) for row in rows]

    def queryset(self, request, queryset):
        if self.field_path is None or not self.value():
            return queryset
        return queryset.filter(**{self.field_path: self.value()})


def searchable_list_filter(*, title: str, parameter_name: str, choices, search_fields, field_path: str | None = None):
    """A ``SearchableListFilter``; ``choices`` is a callable returning the queryset of what may be chosen."""

    class Filter(SearchableListFilter):
        def choices_queryset(self, request):
            return choices()

    Filter.title, Filter.parameter_name, Filter.search_fields, Filter.field_path = title, parameter_name, tuple(search_fields), field_path
    return Filter
