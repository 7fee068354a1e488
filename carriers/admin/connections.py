from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core import home
from core.admin import AuditedModelAdmin
from core.admin_filters import filterset_list_filter
from core.display import person_name, text
from core.errors import ApplicationError

from ..filters import CONNECTION_QUEUES, CarrierConnectionFilterSet
from ..forms import ConnectForm, RetryForm
from ..mapping import CONNECTION_STATUS_LABELS, RETRYABLE_STATUSES
from ..models import CarrierConnection, ConnectionAmendment, ConnectionAttempt, ConnectionEvent, Discrepancy
from ..selectors import connection_list
from ..services import AMENDABLE, connection_poll, connection_pull, connection_request, connection_retry
from .common import EmployerGroupFilter, duration, run_service


class EventInline(admin.TabularInline):
    model = ConnectionEvent
    fields = ["created_at", "source", "status_label", "previous_label", "message", "actor_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Status history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Status")
    def status_label(self, event):
        return event.status_display

    @admin.display(description="By")
    def actor_name(self, row):
        return person_name(row.actor) if row.actor_id else "the service"

    @admin.display(description="Before")
    def previous_label(self, event):
        return CONNECTION_STATUS_LABELS.get(event.previous_status, event.previous_status) if event.previous_status else "—"


class AmendmentInline(EventInline):
    model = ConnectionAmendment
    fields = ["created_at", "attempt", "summary", "actor_name"]
    readonly_fields = fields
    verbose_name_plural = "Amendments (what changed between attempts)"


class WorkInline(EventInline):
    """Each call to the service (request, poll, retry, pull): where it stands and why, in the queues people know."""

    model = ConnectionAttempt
    fields = ["created_at", "kind", "queue_label", "tries", "calls", "reason", "requested_by_name"]
    readonly_fields = fields
    verbose_name_plural = "Work with the service (latest first)"
    max_num = 0

    def get_queryset(self, request):
        # A poll that went well is in the status history already; the others (and every other kind) are here.
        return (
            super()
            .get_queryset(request)
            .exclude(kind=ConnectionAttempt.Kind.POLL, status=ConnectionAttempt.Status.SUCCEEDED)
            .select_related("requested_by")
            .order_by("-created_at", "-id")
        )

    @admin.display(description="Calls to the service")
    def calls(self, attempt):
        return attempt.http_calls

    @admin.display(description="Requested by")
    def requested_by_name(self, attempt):
        return person_name(attempt.requested_by) if attempt.requested_by_id else "Automatic"

    @admin.display(description="Status")
    def queue_label(self, attempt):
        return f"{attempt.queue.label} ({attempt.get_status_display().lower()})"


def _status_choices():
    known = list(CONNECTION_STATUS_LABELS.items())
    others = CarrierConnection.objects.exclude(status__in=CONNECTION_STATUS_LABELS).order_by().values_list("status", flat=True).distinct()
    return known + [(value, f"unknown: {value}") for value in others]


@admin.register(CarrierConnection)
class CarrierConnectionAdmin(AuditedModelAdmin):
    change_form_template = "admin/carriers/carrierconnection/change_form.html"
    list_display = [
        "employer_group",
        "carrier",
        "carrier_group_id",
        "status_badge",
        "time_in_status",
        "last_amendment",
        "last_polled_at",
        "open_discrepancies",
    ]
    list_filter = [
        filterset_list_filter(CarrierConnectionFilterSet, "queue", "queue", [(k, label) for k, (label, _) in CONNECTION_QUEUES.items()]),
        filterset_list_filter(CarrierConnectionFilterSet, "status", "status", _status_choices),
        "carrier",
        EmployerGroupFilter,
    ]
    search_fields = ["employer_group__name", "employer_group__account_number", "carrier_group_id", "connection_id", "group_id"]
    inlines = [EventInline, AmendmentInline, WorkInline]
    actions = ["poll_now", "pull_group_data"]
    fieldsets = [
        (None, {"fields": ["employer_group", "carrier", "status_badge", "time_in_status", "setup_message"]}),
        (
            "Sent to the service",
            {"fields": ["carrier_group_id", "group_name", "federal_ein", "broker_federal_ein", "broker_tin", "employer_email_address", "attempts"]},
        ),
        ("Ids at the service", {"classes": ["collapse"], "fields": ["connection_id", "group_id", "noyo_carrier_id"]}),
        (
            "Following",
            {
                "fields": [
                    "last_polled_at",
                    "next_poll_at",
                    "poll_error",
                    "last_pulled_at",
                    "pull_error",
                    "discrepancies_link",
                    "requested_by_name",
                    "created_at",
                ]
            },
        ),
    ]
    readonly_fields = [f for fs in fieldsets for f in fs[1]["fields"]]

    def get_queryset(self, request):
        open_states = [Discrepancy.Status.OPEN]
        return connection_list().annotate(open_count=Count("discrepancies", filter=Q(discrepancies__status__in=open_states)))

    def has_change_permission(self, request, obj=None):
        return False  # nothing is edited in place: connect, amend & retry, poll and pull are the acts

    def has_delete_permission(self, request, obj=None):
        return False

    def _can_act(self, request) -> bool:
        return request.user.has_perm("carriers.change_carrierconnection")

    # --- list -----------------------------------------------------------------------------------
    @admin.display(description="Status", ordering="status")
    def status_badge(self, connection):
        css = connection.status if connection.status in CONNECTION_STATUS_LABELS else "unknown"
        return format_html('<span class="conn-status conn-{}">{}</span>', css, connection.status_display)

    @admin.display(description="Time in status", ordering="status_since")
    def time_in_status(self, connection):
        return duration((timezone.now() - connection.status_since).total_seconds())

    @admin.display(description="Last amendment")
    def last_amendment(self, connection):
        changes = getattr(connection, "last_amendment", None)
        if not changes:
            return "—"
        return f"{text(connection.last_amended_at)}: {ConnectionAmendment(changes=changes).summary}"

    @admin.display(description="Open discrepancies", ordering="open_count")
    def open_discrepancies(self, connection):
        url = reverse("admin:carriers_discrepancy_changelist") + f"?connection__id__exact={connection.pk}&status__exact=open"
        return format_html('<a href="{}">{}</a>', url, connection.open_count)

    @admin.display(description="Requested by")
    def requested_by_name(self, connection):
        return person_name(connection.requested_by)

    @admin.display(description="Discrepancies")
    def discrepancies_link(self, connection):
        return self.open_discrepancies(connection)

    # --- acts -----------------------------------------------------------------------------------
    @admin.action(description="Poll now", permissions=["act"])
    def poll_now(self, request, queryset):
        for connection in queryset:
            polled = connection_poll(connection_id=connection.pk, actor=request.user, force=True)
            level = messages.WARNING if polled.poll_error else messages.SUCCESS
            self.message_user(request, f"{polled}: {polled.poll_error or polled.status_display}", level)

    @admin.action(description="Pull group data and compare", permissions=["act"])
    def pull_group_data(self, request, queryset):
        for connection in queryset:
            run_service(
                self,
                request,
                lambda c=connection: connection_pull(connection_id=c.pk, actor=request.user),
                f"{connection}: " + "{result[members]} members, {result[plans]} plans pulled; {result[open]} open discrepancies.",
            )

    def has_act_permission(self, request):
        return self._can_act(request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/retry/", wrap(self.retry_view), name="carriers_carrierconnection_retry"),
            path("<int:pk>/poll/", wrap(self.poll_view), name="carriers_carrierconnection_poll"),
            path("<int:pk>/pull/", wrap(self.pull_view), name="carriers_carrierconnection_pull"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(can_act=self._can_act(request), can_retry=obj is not None and obj.status in RETRYABLE_STATUSES)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def add_view(self, request, form_url="", extra_context=None):
        """*Connect a carrier*: the connection request form (pre-filled from ``?employer_group=``)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"employer_group": request.GET.get("employer_group")}
        form = ConnectForm(request.POST or None, initial=initial)
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                connection = connection_request(actor=request.user, **form.service_fields())
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except ApplicationError as exc:
                error = exc.message
            else:
                self.message_user(request, f"Connection requested: {connection} is {connection.status_display}.", messages.SUCCESS)
                return redirect(reverse("admin:carriers_carrierconnection_change", args=[connection.pk]))
        return TemplateResponse(
            request,
            "admin/carriers/carrierconnection/connect.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "error": error,
                "title": "Connect a carrier",
                "carriers_known": form.fields["carrier"].queryset.exists(),
            },
        )

    def retry_view(self, request, pk):
        """*Amend and retry*: the fields sent to the service, changed, then ``PUT …/retry``."""
        connection = get_object_or_404(CarrierConnection.objects.select_related("employer_group", "carrier"), pk=pk)
        if not self._can_act(request):
            raise PermissionDenied
        form = RetryForm(request.POST or None, initial={k: getattr(connection, k) for k in AMENDABLE})
        error = None
        if request.method == "POST" and form.is_valid():
            try:
                connection_retry(actor=request.user, connection=connection, changes=form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except ApplicationError as exc:
                error = exc.message
            else:
                self.message_user(request, f"Amended and retried: {connection}.", messages.SUCCESS)
                return redirect(reverse("admin:carriers_carrierconnection_change", args=[connection.pk]))
        return TemplateResponse(
            request,
            "admin/carriers/carrierconnection/retry.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "error": error,
                "connection": connection,
                "title": f"Amend and retry: {connection}",
                "amendments": connection.amendments.select_related("actor"),
            },
        )

    def _post_act(self, request, pk, act):
        if request.method != "POST":
            return redirect(reverse("admin:carriers_carrierconnection_change", args=[pk]))
        if not self._can_act(request):
            raise PermissionDenied
        act(get_object_or_404(CarrierConnection, pk=pk))
        return redirect(reverse("admin:carriers_carrierconnection_change", args=[pk]))

    def poll_view(self, request, pk):
        return self._post_act(request, pk, lambda c: self.poll_now(request, CarrierConnection.objects.filter(pk=c.pk)))

    def pull_view(self, request, pk):
        return self._post_act(request, pk, lambda c: self.pull_group_data(request, CarrierConnection.objects.filter(pk=c.pk)))


# --- the home: the carrier connection queue (core.home) ---------------------------------------------
def _connection_queue_rows(request):
    url = reverse("admin:carriers_carrierconnection_changelist")
    counts = {key: CarrierConnectionFilterSet({"queue": [key]}, CarrierConnection.objects.all()).qs.count() for key in ("attention", "waiting")}
    return [
        home.HomeRow(
            CONNECTION_QUEUES["attention"][0],
            url=f"{url}?queue=attention",
            count=counts["attention"],
            tone="failed" if counts["attention"] else "",
            detail="Action required or unable to connect",
        ),
        home.HomeRow(
            CONNECTION_QUEUES["waiting"][0], url=f"{url}?queue=waiting", count=counts["waiting"], tone="running" if counts["waiting"] else ""
        ),
    ]


home.register(
    home.Panel(
        key="carrier_connections",
        section=home.QUEUES,
        title="Carrier connections",
        permission="carriers.view_carrierconnection",
        rows=_connection_queue_rows,
    )
)
