"""Page-number pagination that never counts the whole result: it fetches one row more than a page.

``?with_count=true`` adds ``count`` (one ``COUNT(*)`` of the search) for clients that need it.
"""

from collections import OrderedDict

from django.core.paginator import InvalidPage
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api.pagination import MAX_PAGE, positive_int_param


class NoCountPagination(pagination.BasePagination):
    page_size = 50
    max_page_size = 500
    page_query_param = "page"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = positive_int_param(request, self.page_query_param, 1)
        self.size = positive_int_param(request, self.page_size_query_param, self.page_size, maximum=self.max_page_size)
        if self.page > MAX_PAGE:
            raise NotFound("Invalid page: that page contains no results.")
        offset = (self.page - 1) * self.size
        rows = list(queryset[offset : offset + self.size + 1])
        self.has_next = len(rows) > self.size
        if self.page > 1 and not rows:
            raise NotFound(InvalidPage("That page contains no results").args[0])
        self.count = queryset.count() if request.query_params.get("with_count") in ("1", "true", "yes") else None
        return rows[: self.size]

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, self.page_query_param, self.page + 1) if self.has_next else None
        if self.page <= 1:
            previous = None
        elif self.page == 2:
            previous = remove_query_param(url, self.page_query_param)
        else:
            previous = replace_query_param(url, self.page_query_param, self.page - 1)
        body = OrderedDict([("next", next_url), ("previous", previous), ("results", data)])
        if self.count is not None:
            body["count"] = self.count
            body.move_to_end("count", last=False)
        return Response(body)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "count": {"type": "integer", "description": "Only with ?with_count=true."},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.page_query_param, "required": False, "in": "query", "schema": {"type": "integer"}, "description": "Page number (1-based)."},
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer"},
                "description": f"Rows per page (at most {self.max_page_size}).",
            },
            {
                "name": "with_count",
                "required": False,
                "in": "query",
                "schema": {"type": "boolean"},
                "description": "Also count every match (costs one COUNT query).",
            },
        ]
