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
