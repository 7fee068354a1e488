"""The API list's page query: its SQL compiled once per process for each shape of search.

Building the policies' ``EXISTS`` and compiling the page query through the ORM (31 columns, the
subquery, the order) cost the list more CPU than PostgreSQL takes to answer it (docs/benchmarks.md,
"What an API list request costs"). For a search by policy criteria alone (coverage types, policy
status, effective and renewal dates, carriers), or by none, the SQL depends only on the criteria given,
how many values each has and the order: its parameters are the criteria's values in the order
``IndividualFilterSet.policy_terms`` combines them. So the first page of each shape is read through the
ORM, which also checks that the ORM's SQL is the kept one plus its ``LIMIT``, that its parameters are
the values this module passes and that it converts no column (so the cursor's rows are the ORM's: true
on PostgreSQL; SQLite converts dates, so there every page goes through the ORM); the next pages of that
shape run the kept SQL with their own values. Any other search, a count (``?with_count=true``) and a shape that fails the
check go through the ORM. The criteria are validated by the FilterSet in every case (same 400s).
"""

from django.db import connections
from django.utils.functional import cached_property

from ..models import Policy

# The criteria whose whole effect on the query is ``policy_terms`` (their filters do nothing else).
POLICY_ONLY = frozenset({"coverage_type", "policy_status", "policy_effective", "policy_renewal", "carrier"})
# shape -> (the page's SQL without LIMIT/OFFSET, the parameters before the criteria's); None: failed the check
_SQL: dict[tuple, tuple[str, list] | None] = {}


def _params(terms, connection) -> tuple[tuple, list]:
    """(the shape of the terms, their query parameters), each value prepared as the ORM prepares it."""
    shape, params = [], []
    for lookup, value in terms:
        name, _, kind = lookup.rpartition("__")
        field = Policy._meta.get_field(name)
        values = value if kind == "in" else [value]
        prepared = [field.get_db_prep_value(getattr(v, "pk", v), connection) for v in values]
        if kind == "in":
            prepared = list(dict.fromkeys(prepared))  # as the ORM's IN: each value once
        shape.append((lookup, len(prepared)))
        params += prepared
    return tuple(shape), params


class ListPage:
    """The list's search for the paginator: a page by slicing (``page[offset:stop]``, tuples of the list's
    columns) and ``count()``, both as the ORM queryset ``filterset.qs`` ordered by ``ordering`` gives them."""

    def __init__(self, filterset, ordering):
        self.filterset, self.ordering = filterset, list(ordering)

    @cached_property
    def queryset(self):
        return self.filterset.qs.order_by(*self.ordering)

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice) -> list[tuple]:
        if not set(self.filterset.filters) <= POLICY_ONLY:
            return list(self.queryset[page])
        connection = connections[self.filterset.queryset.db]
        shape, params = _params(self.filterset.policy_terms(), connection)
        shape = (connection.alias, tuple(self.ordering), shape)
        kept = _SQL.get(shape)
        if kept is None:
            return self._learn(shape, params, page, connection) if shape not in _SQL else list(self.queryset[page])
        sql, constants = kept
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} {connection.ops.limit_offset_sql(page.start, page.stop)}", constants + params)
            return cursor.fetchall()

    def _learn(self, shape, params, page, connection) -> list[tuple]:
        sliced = self.queryset[page]
        compiler = sliced.query.get_compiler(connection=connection)
        sliced_sql, sliced_params = compiler.as_sql()
        # No converter on the columns (PostgreSQL's; SQLite's dates have one): the cursor's rows are the ORM's.
        converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
        sql, orm_params = self.queryset.query.get_compiler(connection=connection).as_sql()
        # The ORM's parameters are constants of the shape (the EXISTS's ``SELECT 1``), then the criteria's.
        constants, values = list(orm_params[: len(orm_params) - len(params)]), list(orm_params[len(orm_params) - len(params) :])
        if {(type(c), c) for c in constants} & {(type(p), p) for p in params}:
            return list(sliced)  # a criterion equal to a constant: which is which cannot be told; a later page learns
        same = sliced_sql == f"{sql} {connection.ops.limit_offset_sql(page.start, page.stop)}" and list(sliced_params) == list(orm_params)
        if len(_SQL) > 256:
            _SQL.clear()
        _SQL[shape] = (sql, constants) if same and values == params and not converters else None
        return list(sliced)
