"""A JSON parser with a nesting limit: a body nested thousands deep is a 400, not a RecursionError."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def json_depth(data) -> int:
    """How deep lists and objects nest in ``data`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """``JSONParser`` refusing bodies nested deeper than ``MAX_DEPTH`` lists / objects."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested too deep (at most {MAX_DEPTH} levels).") from None
        if json_depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested too deep (at most {MAX_DEPTH} levels).")
        return data
