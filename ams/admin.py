"""The AMS link in the admin: the sync queue, identity conflicts, reconciliations, the inbox, webhook
secrets, and the page where a person links a record to an AMS customer picked from name candidates."""

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from core import display, home
from core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from core.errors import ApplicationError
from core.jobs import QUEUE_STATUSES, Queue
from integrations.models import ExternalId

from . import services
from .models import IdentityConflict, Notification, Reconciliation, SyncAttempt, WebhookSecret
from .permissions import can_see_links, viewable_content_types
from .services.identity import LINKABLE


class _SeenWithRecords:
    """Visible to whoever sees individuals, policies or employer groups (the records these rows concern)."""

    def has_module_permission(self, request):
        return can_see_links(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return can_see_links(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(content_type_id__in=viewable_content_types(request.user))


OUTCOME_LABELS = {
    "created": "Created here",
    "updated": "Updated here",
    "unchanged": "Unchanged",
    "retired": "Id retired",
    "ignored": "Ignored",
    "upserted": "Sent to the CRM",
    "removed": "Removed from the CRM",
}


def record_link(content_type, object_id, text: str):
    """A local record's name, linked to its page when it still exists (no content types or ids on show)."""
    if content_type is None or object_id is None:
        return text or display.EMPTY
    try:
        url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[object_id])
    except NoReverseMatch:
        return text or display.EMPTY
    return format_html('<a href="{}">{}</a>', url, text or f"{content_type.name} #{object_id}")


def far_side_id(value: str):
    """An id in the other system: kept (people quote it to that system's support), quiet and cut short."""
    return format_html('<span class="ad-truncate ad-muted" style="max-width: 12rem" title="{}">{}</span>', value, value) if value else display.EMPTY


def _visible_attempts(queryset, user):
    """The syncs of records this user may see (and those of no record): the list and the home count the same rows."""
    return queryset.filter(Q(content_type_id__in=viewable_content_types(user)) | Q(content_type__isnull=True))


class OutcomeFilter(admin.SimpleListFilter):
    """The outcomes in words (the column stores codes)."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return list(OUTCOME_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() else queryset


@admin.register(SyncAttempt)
class SyncAttemptAdmin(_SeenWithRecords, ReadOnlyModelAdmin):
    """The sync queue: tabs Failed / In progress / Successful, each row with its reason."""

    change_list_template = "admin/ams/syncattempt/change_list.html"
    list_display = ["created_at", "direction", "operation", "record_shown", "far_side", "status", "tries", "outcome_label", "reason"]
    list_filter = ["direction", "operation", OutcomeFilter]
    search_fields = ["record_repr", "external_id", "reason"]
    date_hierarchy = "created_at"
    fields = [
        "status",
        "direction",
        "operation",
        "record_shown",
        "external_id",
        "outcome_label",
        "changes_shown",
        "reason",
        "tries",
        "http_calls",
        "requested_by_name",
        "notification",
        "reconciliation",
        "created_at",
        "started_at",
        "finished_at",
        "next_try_at",
        "retrying_since",
    ]
    readonly_fields = fields
    list_select_related = ["content_type"]

    @admin.display(description="Record", ordering="record_repr")
    def record_shown(self, obj):
        return record_link(obj.content_type, obj.object_id, obj.record_repr)

    @admin.display(description="Far-side id", ordering="external_id")
    def far_side(self, obj):
        return far_side_id(obj.external_id)

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_label(self, obj):
        return OUTCOME_LABELS.get(obj.outcome, display.humanize_key(obj.outcome)) if obj.outcome else display.EMPTY

    @admin.display(description="Changed fields")
    def changes_shown(self, obj):
        return display.text([display.humanize_key(c) if "_" in str(c) else c for c in obj.changes or []])

    @admin.display(description="Requested by")
    def requested_by_name(self, obj):
        return display.person_name(obj.requested_by)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {"title": "AMS and CRM sync", **(extra_context or {})})

    def get_queryset(self, request):
        return _visible_attempts(ReadOnlyModelAdmin.get_queryset(self, request), request.user)

    def changelist_view(self, request, extra_context=None):
        counts = dict(self.get_queryset(request).order_by().values_list("status").annotate(n=Count("pk")))
        current = request.GET.get("status__in", request.GET.get("status__exact", ""))
        base = reverse("admin:ams_syncattempt_changelist")
        tabs = []
        for queue in (Queue.FAILED, Queue.IN_PROGRESS, Queue.SUCCESSFUL):
            statuses = ",".join(QUEUE_STATUSES[queue])
            tabs.append(
                {
                    "label": queue.label,
                    "value": queue.value,
                    "active": current == statuses,
                    "count": sum(counts.get(status, 0) for status in QUEUE_STATUSES[queue]),
                    "url": f"{base}?status__in={statuses}",
                }
            )
        return super().changelist_view(request, {"title": "AMS and CRM sync queue", **(extra_context or {}), "sync_tabs": tabs})

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("status__exact", "status__in") or super().lookup_allowed(lookup, value, request)


class CandidateSearchForm(forms.Form):
    name_prefix = forms.CharField(label="Customer name starts with", min_length=2, max_length=100)


@admin.register(IdentityConflict)
class IdentityConflictAdmin(_SeenWithRecords, admin.ModelAdmin):
    """Identity conflicts: a person merges the two records or keeps them separate (audited)."""

    change_form_template = "admin/ams/identityconflict/change_form.html"
    list_display = ["created_at", "kind", "far_side", "kept", "other", "status", "decided_by_name"]
    list_filter = ["status", "kind"]
    search_fields = ["external_id", "description"]
    readonly_fields = [
        "kind",
        "status",
        "system_label",
        "object_type_label",
        "external_id",
        "kept",
        "other",
        "description",
        "created_at",
        "decided_by_name",
        "decided_at",
    ]
    fields = readonly_fields

    @admin.display(description="Far-side id", ordering="external_id")
    def far_side(self, obj):
        return far_side_id(obj.external_id)

    @admin.display(description="System")
    def system_label(self, obj):
        return dict(ExternalId.System.choices).get(obj.system, display.humanize_key(obj.system))

    @admin.display(description="Kind of record there")
    def object_type_label(self, obj):
        return display.humanize_key(obj.object_type)

    @admin.display(description="Decided by", ordering="decided_by")
    def decided_by_name(self, obj):
        return display.person_name(obj.decided_by)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Record that keeps the id")
    def kept(self, obj):
        return self._link(obj.content_type, obj.object_id, obj.records()[0])

    @admin.display(description="Other record")
    def other(self, obj):
        return self._link(obj.content_type, obj.other_object_id, obj.records()[1])

    @staticmethod
    def _link(content_type, pk, record):
        if record is None:
            return f"(deleted: #{pk})"
        url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[pk])
        return format_html('<a href="{}">{}</a>', url, record)

    def get_urls(self):
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="ams_identityconflict_decide"),
            path("link/<str:record_type>/<int:pk>/", self.admin_site.admin_view(self.link_view), name="ams_link"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conflict = self.get_object(request, object_id)
        can_decide = (
            conflict is not None
            and conflict.status == IdentityConflict.Status.OPEN
            and request.user.has_perm(f"{conflict.content_type.app_label}.change_{conflict.content_type.model}")
        )
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_decide": can_decide})

    def decide_view(self, request, pk):
        if request.method != "POST":
            raise Http404
        conflict = self.get_object(request, str(pk))
        if conflict is None:
            raise Http404
        try:
            services.conflict_resolve(actor=request.user, conflict=conflict, decision=request.POST.get("decision", ""))
        except (ApplicationError, ValidationError) as exc:
            self.message_user(request, getattr(exc, "message", None) or "; ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, "Merged." if request.POST.get("decision") == "merge" else "Kept separate.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:ams_identityconflict_change", args=[pk]))

    def link_view(self, request, record_type, pk):
        """Search AMS customers by name prefix (candidates only) and link the one a person picks."""
        model = LINKABLE.get(record_type)
        record = model._default_manager.filter(pk=pk).first() if model else None
        if record is None:
            raise Http404
        if not request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}"):
            raise PermissionDenied
        back = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
        if request.method == "POST" and request.POST.get("customer_id"):
            try:
                services.customer_link(actor=request.user, obj=record, customer_id=request.POST["customer_id"])
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, getattr(exc, "message", None) or "; ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, "Linked to the AMS customer; its data is being brought in.", messages.SUCCESS)
            return HttpResponseRedirect(back)
        form = CandidateSearchForm(request.GET or None)
        found, error = None, ""
        if form.is_valid():
            try:
                page = int(request.GET.get("page") or 1)
            except ValueError:
                page = 1
            try:
                found = services.customer_candidate_page(name_prefix=form.cleaned_data["name_prefix"], page=page)
            except ApplicationError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "title": f"Link “{record}” to an AMS customer",
            "record": record,
            "record_facts": _record_facts(record),
            "form": form,
            "found": found,
            "candidates": [_candidate_row(c, record) for c in found.results] if found else [],
            "page_links": _page_links(request, found) if found else [],
            "error": error,
            "back": back,
            "opts": model._meta,
        }
        return TemplateResponse(request, "admin/ams/link.html", context)


def _record_facts(record) -> list[tuple[str, str]]:
    """What a person compares a candidate with: the record's own date of birth, email and address."""
    facts = []
    if hasattr(record, "date_of_birth"):
        facts.append(("Date of birth", display.text(record.date_of_birth)))
    if hasattr(record, "email"):
        facts.append(("Email", record.email or display.EMPTY))
    if hasattr(record, "address_line1"):
        place = " ".join(filter(None, [record.state, record.zip_code]))
        facts.append(("Address", ", ".join(filter(None, [record.address_line1, record.city, place])) or display.EMPTY))
    return facts


def _candidate_row(candidate: dict, record) -> dict:
    """A candidate as the page shows it: dates as dates, and the local record that already holds it, linked."""
    holder = candidate["linked_to"]
    holder_url = ""
    if holder is not None:
        holder_url = reverse(f"admin:{holder._meta.app_label}_{holder._meta.model_name}_change", args=[holder.pk])
    return {
        **candidate,
        "date_of_birth": display.text(candidate["date_of_birth"]),
        "this_record": holder is not None and type(holder) is type(record) and holder.pk == record.pk,
        "holder_url": holder_url,
        "holder_kind": holder._meta.verbose_name if holder is not None else "",
    }


def _page_links(request, found) -> list[dict]:
    """Previous, the page numbers (around the current one) and Next, each keeping the search."""
    if found.pages <= 1:
        return []

    def url(number):
        query = request.GET.copy()
        query["page"] = number
        return f"?{query.urlencode()}"

    numbers = sorted({1, found.pages, *range(max(1, found.number - 2), min(found.pages, found.number + 2) + 1)})
    links = [{"label": "‹ Previous", "url": url(found.number - 1) if found.number > 1 else "", "rel": "prev"}]
    last = 0
    for n in numbers:
        if n - last > 1:
            links.append({"label": "…", "url": "", "rel": ""})
        links.append({"label": str(n), "url": "" if n == found.number else url(n), "rel": "current" if n == found.number else ""})
        last = n
    links.append({"label": "Next ›", "url": url(found.number + 1) if found.number < found.pages else "", "rel": "next"})
    return links


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyModelAdmin):
    change_list_template = "admin/ams/reconciliation/change_list.html"
    list_display = [
        "created_at",
        "trigger",
        "requested_by_name",
        "status",
        "tries",
        "customers_seen",
        "policies_seen",
        "created",
        "updated",
        "retired",
        "failed",
        "finished_at",
        "reason",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["requested_by"]
    exclude = ["requested_by", "lease_until"]
    readonly_fields = ["requested_by_name"]

    @admin.display(description="Requested by", ordering="requested_by")
    def requested_by_name(self, obj):
        return display.person_name(obj.requested_by)

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="ams_reconciliation_run"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        can_run = request.user.has_perm("ams.add_reconciliation")
        return super().changelist_view(request, {**(extra_context or {}), "can_run": can_run})

    def run_view(self, request):
        if request.method != "POST":
            raise Http404
        if not request.user.has_perm("ams.add_reconciliation"):
            raise PermissionDenied
        run = services.reconciliation_request(actor=request.user)
        self.message_user(request, f"Reconciliation #{run.pk} is {run.get_status_display().lower()}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:ams_reconciliation_changelist"))


class RecordTypeFilter(admin.SimpleListFilter):
    """The record types the AMS sent, in words ("Customer", "Policy")."""

    title = "record type"
    parameter_name = "record_type"

    def lookups(self, request, model_admin):
        types = Notification.objects.order_by("record_type").values_list("record_type", flat=True).distinct()
        return [(value, display.humanize_key(value)) for value in types if value]

    def queryset(self, request, queryset):
        return queryset.filter(record_type=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """The inbox: every notification the AMS pushed, as stored before the webhook answered."""

    list_display = ["created_at", "record_type_label", "record_shown", "action_label", "deliveries", "status", "tries", "reason"]
    list_filter = ["status", RecordTypeFilter]
    search_fields = ["record_id", "customer_id", "notification_id"]
    exclude = ["payload", "lease_until"]
    readonly_fields = ["record_type_label", "action_label", "payload_shown"]

    @admin.display(description="Record type", ordering="record_type")
    def record_type_label(self, obj):
        return display.humanize_key(obj.record_type) if obj.record_type else display.EMPTY

    @admin.display(description="Action", ordering="action")
    def action_label(self, obj):
        return display.humanize_key(obj.action) if obj.action else display.EMPTY

    @admin.display(description="Id in the AMS", ordering="record_id")
    def record_shown(self, obj):
        return far_side_id(obj.record_id)

    @admin.display(description="What the AMS sent")
    def payload_shown(self, obj):
        return display.definition_list(obj.payload or {})


class WebhookSecretForm(forms.ModelForm):
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        min_length=16,
        help_text="The HMAC-SHA256 key configured in the agency management system (at least 16 characters).",
    )

    class Meta:
        model = WebhookSecret
        fields = ["name", "secret", "active"]


@admin.register(WebhookSecret)
class WebhookSecretAdmin(AuditedModelAdmin):
    form = WebhookSecretForm
    list_display = ["name", "active", "created_at"]

    def save_model(self, request, obj, form, change):
        services.webhook_secret_save(actor=request.user, secret=obj, changed=list(form.changed_data) if change else None)


def linked_systems_url(record) -> str:
    ct = ContentType.objects.get_for_model(record)
    return reverse("admin:ams_link", args=[ct.model, record.pk])


# --- the home: the AMS/CRM queue and the identity conflicts awaiting a person (core.home) -----------
def _ams_queue_rows(request):
    """Failed and In progress, each opening the sync queue on its own tab (the counts are the tab's rows)."""
    url = reverse("admin:ams_syncattempt_changelist")
    visible = _visible_attempts(SyncAttempt.objects.all(), request.user)
    rows = []
    for queue, tone in ((Queue.FAILED, "failed"), (Queue.IN_PROGRESS, "running")):
        count = visible.filter(status__in=QUEUE_STATUSES[queue]).count()
        rows.append(home.HomeRow(queue.label, url=f"{url}?status__in={','.join(QUEUE_STATUSES[queue])}", count=count, tone=tone if count else ""))
    return rows


home.register(home.Panel(key="ams_sync", section=home.QUEUES, title="AMS and CRM", permission="ams.view_syncattempt", rows=_ams_queue_rows))
