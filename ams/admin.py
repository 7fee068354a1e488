"""The AMS link in the admin: the sync queue, identity conflicts, reconciliations, the inbox, webhook
secrets, and the page where a person links a record to an AMS customer picked from name candidates."""

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core import home
from core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from core.errors import ApplicationError
from core.jobs import QUEUE_STATUSES, Queue

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


@admin.register(SyncAttempt)
class SyncAttemptAdmin(_SeenWithRecords, ReadOnlyModelAdmin):
    """The sync queue: tabs Failed / In progress / Successful, each row with its reason."""

    change_list_template = "admin/ams/syncattempt/change_list.html"
    list_display = ["created_at", "direction", "operation", "record_repr", "external_id", "status", "tries", "outcome", "reason"]
    list_filter = ["direction", "operation", "outcome"]
    search_fields = ["record_repr", "external_id", "reason"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        from django.db.models import Q

        return ReadOnlyModelAdmin.get_queryset(self, request).filter(
            Q(content_type_id__in=viewable_content_types(request.user)) | Q(content_type__isnull=True)
        )

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
        return super().changelist_view(request, {**(extra_context or {}), "sync_tabs": tabs})

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("status__exact", "status__in") or super().lookup_allowed(lookup, value, request)


class CandidateSearchForm(forms.Form):
    name_prefix = forms.CharField(label="Customer name starts with", min_length=2, max_length=100)


@admin.register(IdentityConflict)
class IdentityConflictAdmin(_SeenWithRecords, admin.ModelAdmin):
    """Identity conflicts: a person merges the two records or keeps them separate (audited)."""

    change_form_template = "admin/ams/identityconflict/change_form.html"
    list_display = ["created_at", "kind", "external_id", "kept", "other", "status", "decided_by"]
    list_filter = ["status", "kind"]
    search_fields = ["external_id", "description"]
    readonly_fields = [
        "kind",
        "status",
        "system",
        "object_type",
        "external_id",
        "kept",
        "other",
        "description",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    fields = readonly_fields

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
        candidates, error = [], ""
        if form.is_valid():
            try:
                candidates = services.customer_candidates(name_prefix=form.cleaned_data["name_prefix"])
            except ApplicationError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "title": f"Link “{record}” to an AMS customer",
            "record": record,
            "form": form,
            "candidates": candidates,
            "error": error,
            "back": back,
            "opts": model._meta,
        }
        return TemplateResponse(request, "admin/ams/link.html", context)


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyModelAdmin):
    change_list_template = "admin/ams/reconciliation/change_list.html"
    list_display = [
        "created_at",
        "trigger",
        "requested_by",
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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """The inbox: every notification the AMS pushed, as stored before the webhook answered."""

    list_display = ["created_at", "record_type", "record_id", "action", "deliveries", "status", "tries", "reason"]
    list_filter = ["status", "record_type"]
    search_fields = ["record_id", "customer_id", "notification_id"]


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
    url = reverse("admin:ams_syncattempt_changelist")
    failed = SyncAttempt.objects.filter(status__in=QUEUE_STATUSES[Queue.FAILED]).count()
    running = SyncAttempt.objects.filter(status__in=QUEUE_STATUSES[Queue.IN_PROGRESS]).count()
    return [
        home.HomeRow("Failed", url=f"{url}?status__in={','.join(QUEUE_STATUSES[Queue.FAILED])}", count=failed, tone="failed" if failed else ""),
        home.HomeRow(
            "In progress", url=f"{url}?status__in={','.join(QUEUE_STATUSES[Queue.IN_PROGRESS])}", count=running, tone="running" if running else ""
        ),
    ]


home.register(home.Panel(key="ams_sync", section=home.QUEUES, title="AMS and CRM", permission="ams.view_syncattempt", rows=_ams_queue_rows))
