"""Page-number pagination, and the reading of paging parameters shared by every paginator."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

# Beyond this a page cannot exist (offsets must fit a bigint): answered as "no such page".
MAX_PAGE = 10**12


def positive_int_param(request, name: str, default: int, *, maximum: int | None = None) -> int:
    """The query parameter ``name`` as a positive integer (``default`` when absent), capped at ``maximum``.

    Raises a 400 naming the parameter when it is not a positive whole number.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [f"Must be a positive whole number, not {raw[:20]!r}."]})
    value = int(raw)
    return min(value, maximum) if maximum is not None else value


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return positive_int_param(request, self.page_size_query_param, self.page_size, maximum=self.max_page_size)
