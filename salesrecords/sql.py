"""The set-based statements of mass creation: one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING
per chunk, on PostgreSQL and SQLite (>= 3.35) alike; only the custom-field expression differs.
"""

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import QuerySet

from core.jobs import Status
from individuals.models import CustomField, Individual

from .models import CARRIED_FIELDS, NOT_CARRIED_TYPES, PERSONAL_COLUMNS, WorkflowEmail

INDIVIDUALS = Individual._meta.db_table


def not_carried_keys() -> list[str]:
    """Keys of custom fields (active or not) whose values stay on the individual."""
    return sorted(CustomField.objects.filter(field_type__in=NOT_CARRIED_TYPES).values_list("key", flat=True))


def custom_fields_expression(keys: list[str]) -> tuple[str, list]:
    """SQL (and params) for the individual's ``custom_fields`` without ``keys``, computed in the database."""
    column = f"{INDIVIDUALS}.custom_fields"
    if not keys:
        return column, []
    if connection.vendor == "postgresql":
        return f"({column} - %s::text[])", [keys]
    return f"json_remove({column}, {', '.join(['%s'] * len(keys))})", [f'$."{k}"' for k in keys]


def subquery(qs: QuerySet) -> tuple[str, tuple]:
    """The SQL of ``qs`` as a subquery of ids (no ordering: ``IN`` does not need it)."""
    return qs.order_by().values("pk").query.sql_with_params()


def search_condition(individuals: QuerySet) -> tuple[str, tuple]:
    """A condition on ``individuals_individual`` (unaliased) selecting exactly ``individuals``.

    A search on the individual's own columns (no join, no DISTINCT) is its WHERE clause as it is, so
    that a statement reads each match once, in id order off the primary key; any other search is
    ``id IN (the search's ids)``, which reads the individuals twice.
    """
    query = individuals.query
    if query.distinct or query.combinator or set(query.alias_map) - {INDIVIDUALS}:
        ids_sql, ids_params = subquery(individuals)
        return f"{INDIVIDUALS}.id IN ({ids_sql})", ids_params
    try:
        where, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return "FALSE", ()
    except FullResultSet:
        return "TRUE", ()
    return where or "TRUE", tuple(params)


COLUMNS = (
    "individual_id",
    "record_type_id",
    "assigned_user_id",
    "stage",
    "temperature",
    "job_id",
    *CARRIED_FIELDS,
    *PERSONAL_COLUMNS,
    "custom_fields",
    "created_at",
    "updated_at",
)


def folds_workflows() -> bool:
    """Whether ``insert_sales_records`` runs the workflows' actions in its own statement (PostgreSQL's
    data-modifying CTEs); elsewhere the caller runs ``workflows_trigger`` on the new records."""
    return connection.vendor == "postgresql"


def insert_sales_records(
    *, individuals: QuerySet, record_type_id: int, job_id: int | None, stage: str, excluded_keys: list[str], now, workflows: list | None = None
) -> tuple[int, int]:
    """Create a sales record for every individual in ``individuals`` that has none: (individuals, records created).

    One ``INSERT ... SELECT ... ON CONFLICT (individual_id) DO NOTHING``, in individual id order:
    existing records (also those a concurrent job commits first) are skipped by the unique
    ``individual_id``; personal data columns are copied as they are (never decrypted). The search is
    the insert's own WHERE clause when it can be (``search_condition``). PostgreSQL counts the
    individuals in the same statement and, when ``folds_workflows()``, runs ``workflows`` (from
    ``workflows.runnable_workflows``) on exactly the new records there too: the stage they set, an
    activity and a run row per record, all in one round trip. SQLite, which has no data-modifying
    CTEs, counts first and leaves the workflows to the caller.
    """
    where, where_params = search_condition(individuals)
    cf_sql, cf_params = custom_fields_expression(excluded_keys)
    now = connection.ops.adapt_datetimefield_value(now)
    copied = ", ".join(f"{INDIVIDUALS}.{c}" for c in (*CARRIED_FIELDS, *PERSONAL_COLUMNS))
    postgres = connection.vendor == "postgresql"
    workflows = (workflows or []) if postgres else []
    stage_sql, stage_params = _stage_expression(workflows, stage)
    insert = (
        f"INSERT INTO salesrecords_salesrecord ({', '.join(COLUMNS)}) "
        f"SELECT {INDIVIDUALS}.id, %s, a.user_id, {stage_sql}, '', %s, {copied}, {cf_sql}, %s, %s "
        f"FROM {INDIVIDUALS} LEFT JOIN accounts_agent a ON a.id = {INDIVIDUALS}.servicing_agent_id "
        f"WHERE {where} ORDER BY {INDIVIDUALS}.id "
        "ON CONFLICT (individual_id) DO NOTHING RETURNING " + ("id, individual_id, assigned_user_id" if postgres else "id")
    )
    params = [record_type_id, *stage_params, job_id, *cf_params, now, now, *where_params]
    count = f"SELECT count(*) FROM {INDIVIDUALS} WHERE {where}"
    with connection.cursor() as cursor:
        if postgres:
            actions, action_params = _workflow_actions(workflows, now)
            cursor.execute(
                f"WITH created AS ({insert}){actions} SELECT ({count}), (SELECT count(*) FROM created)", [*params, *action_params, *where_params]
            )
            found, created = cursor.fetchone()
            return found, created
        cursor.execute(count, where_params)
        found = cursor.fetchone()[0]
        if not found:
            return 0, 0
        cursor.execute(insert, params)
        return found, len(cursor.fetchall())


def _criteria(individuals: QuerySet | None, column: str) -> tuple[str, tuple]:
    """``column IN (the workflow's individuals)``, or TRUE for a workflow without criteria."""
    if individuals is None:
        return "TRUE", ()
    sql, params = individuals.query.sql_with_params()
    return f"{column} IN ({sql})", params


def _stage_expression(workflows: list, stage: str) -> tuple[str, list]:
    """The stage a new record gets: that of the last workflow (in run order) setting one whose criteria
    it meets, as ``workflows_trigger`` would leave it; else ``stage``."""
    setting = [(w, individuals) for w, individuals in workflows if w.set_stage]
    if not setting:
        return "%s", [stage]
    sql, params = [], []
    for workflow, individuals in reversed(setting):
        condition, condition_params = _criteria(individuals, f"{INDIVIDUALS}.id")
        sql.append(f"WHEN {condition} THEN %s")
        params += [*condition_params, workflow.set_stage]
    return f"CASE {' '.join(sql)} ELSE %s END", [*params, stage]


def _workflow_actions(workflows: list, now) -> tuple[str, list]:
    """CTEs writing, per workflow, an activity (if it creates one) and a run row for each new record
    (``created``) meeting its criteria."""
    from .workflows import activity_due_date

    sql, params = [], []
    for n, (workflow, individuals) in enumerate(workflows):
        condition, condition_params = _criteria(individuals, "c.individual_id")
        if workflow.create_activity:
            sql.append(
                f", activities_{n} AS (INSERT INTO salesrecords_activity (subject, sales_record_id, assigned_to_id, "
                "due_date, done, notes, workflow_id, created_at, updated_at) "
                f"SELECT %s, c.id, c.assigned_user_id, %s, FALSE, '', %s, %s, %s FROM created c WHERE {condition})"
            )
            params += [workflow.activity_subject, activity_due_date(workflow, now), workflow.pk, now, now, *condition_params]
        sql.append(
            f", runs_{n} AS (INSERT INTO salesrecords_salesworkflowrun (workflow_id, sales_record_id, created_at) "
            f"SELECT %s, c.id, %s FROM created c WHERE {condition}{' RETURNING id' if workflow.send_email else ''})"
        )
        params += [workflow.pk, now, *condition_params]
        if workflow.send_email:  # its outbox rows (core.jobs.Job, queued), sent after commit
            sql.append(f", emails_{n} AS ({_EMAILS_INSERT} SELECT r.id, %s, %s, 0, '' FROM runs_{n} r)")
            params += [Status.QUEUED, now]
    return "".join(sql), params


_EMAILS_INSERT = "INSERT INTO salesrecords_workflowemail (run_id, status, created_at, tries, reason)"


def insert_workflow_runs(*, workflow_id: int, records: QuerySet, send_email: bool, now) -> int:
    """A run row per record of ``records`` (and, when the workflow sends email, its queued outbox row):
    the number of runs inserted.

    No ``ON CONFLICT``: callers pass records without a run, so a duplicate can only come from a
    bug or a race, and then the unique (workflow, record) pair rolls the whole chunk back.
    """
    ids_sql, ids_params = subquery(records)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO salesrecords_salesworkflowrun (workflow_id, sales_record_id, created_at) "
            f"SELECT %s, sr.id, %s FROM salesrecords_salesrecord sr WHERE sr.id IN ({ids_sql})" + (" RETURNING id" if send_email else ""),
            [workflow_id, connection.ops.adapt_datetimefield_value(now), *ids_params],
        )
        if not send_email:
            return cursor.rowcount
        runs = [row[0] for row in cursor.fetchall()]
    WorkflowEmail.objects.bulk_create([WorkflowEmail(run_id=run) for run in runs], batch_size=2000)
    return len(runs)


def insert_activities(*, workflow_id: int, subject: str, due_date, records: QuerySet, now) -> int:
    """An activity per record of ``records``, assigned to the record's user."""
    ids_sql, ids_params = subquery(records)
    now = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO salesrecords_activity (subject, sales_record_id, assigned_to_id, due_date, done, notes, "
            "workflow_id, created_at, updated_at) "
            f"SELECT %s, sr.id, sr.assigned_user_id, %s, %s, '', %s, %s, %s FROM salesrecords_salesrecord sr "
            f"WHERE sr.id IN ({ids_sql})",
            [subject, connection.ops.adapt_datefield_value(due_date), False, workflow_id, now, now, *ids_params],
        )
        return cursor.rowcount
