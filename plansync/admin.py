"""Admin wiring: the import page (from Employer groups), the choose-plans page, runs, conflicts."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core import display as shown
from core import home
from core.admin import ReadOnlyModelAdmin
from core.jobs import QUEUE_STATUSES, Queue
from integrations.http import IntegrationError
from plans.models import EmployerGroup

from .mapping import FIELD_LABELS, display
from .models import AccountLink, BenefitsAdminAccount, PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, Side
from .screens import (
    LOCAL_CHOICES,
    REMOTE_CHOICES,
    SIDE_SHORT,
    choose_rows,
    conflict_value,
    link_offers,
    link_targets,
    person,
    refresh_failure,
    without_addresses,
)
from .selectors import account_list, plans_side_by_side
from .services import Row, account_import, accounts_refresh, conflict_resolve, plan_choices_preview, plan_choices_save, plan_sync_request


def _can_edit(request) -> bool:
    return request.user.has_perms(["plans.change_employergroup", "plans.change_plan"])


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [without_addresses(m) for msgs in exc.message_dict.values() for m in msgs]
    return [without_addresses(m) for m in exc.messages]


@admin.register(BenefitsAdminAccount)
class BenefitsAdminAccountAdmin(ReadOnlyModelAdmin):
    list_display = ["account_id", "name", "account_type", "office_name", "active", "refreshed_at"]
    search_fields = ["name", "=account_id"]


class PlanChoiceInline(admin.TabularInline):
    model = PlanChoice
    fields = ["plan", "product_id", "choice", "truth_details", "truth_benefits", "truth_rates", "state"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccountLink)
class AccountLinkAdmin(ReadOnlyModelAdmin):
    list_display = ["group", "account_name", "account_id", "created_at", "actions_column"]
    search_fields = ["group__name", "account_name", "=account_id"]
    fields = ["group", "account_name", "account_id", "created_by_name", "created_at"]
    readonly_fields = fields
    inlines = [PlanChoiceInline]

    @admin.display(description="linked by")
    def created_by_name(self, obj):
        return person(obj.created_by)

    @admin.display(description="")
    def actions_column(self, obj):
        return format_html(
            '<a href="{}">Choose plans</a> · <a href="{}">Runs</a>',
            reverse("admin:plansync_accountlink_choose", args=[obj.pk]),
            reverse("admin:plansync_plansyncrun_changelist") + f"?link__id__exact={obj.pk}",
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="plansync_accountlink_import"),
            path("<int:pk>/choose/", wrap(self.choose_view), name="plansync_accountlink_choose"),
            path("<int:pk>/sync/", wrap(self.sync_view), name="plansync_accountlink_sync"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not _can_edit(request):
            raise PermissionDenied
        errors = []
        if request.method == "POST":
            if request.POST.get("refresh"):
                try:
                    count = accounts_refresh(actor=request.user)
                    messages.success(request, f"The list holds {count} benefits-admin accounts.")
                except IntegrationError as exc:
                    errors.append(refresh_failure(exc))
            else:
                group = EmployerGroup.objects.filter(pk=request.POST.get("group") or None).first()
                try:
                    link = account_import(actor=request.user, account_id=int(request.POST.get("account_id", "0")), group=group)
                except (ValidationError, ValueError) as exc:
                    errors += _errors(exc) if isinstance(exc, ValidationError) else ["Enter an account ID (a number)."]
                else:
                    messages.success(request, f"Imported account {link.account_id} into {link.group.name}: now choose its plans.")
                    return redirect("admin:plansync_accountlink_choose", link.pk)
            if not errors:
                return redirect(request.get_full_path())
        q = request.GET.get("q", "").strip()
        if not BenefitsAdminAccount.objects.exists() and not errors:
            try:
                accounts_refresh(actor=request.user)
            except IntegrationError as exc:
                errors.append(refresh_failure(exc))
        accounts = list(account_list(filters={"q": q})[:100])
        linked = {link.account_id: link.group for link in AccountLink.objects.select_related("group")}
        targets = link_targets()
        for account in accounts:
            account.linked_group = linked.get(account.account_id)
            account.link_offers = link_offers(account.name, targets)
        latest = BenefitsAdminAccount.objects.order_by("-refreshed_at").first()
        return TemplateResponse(
            request,
            "admin/plansync/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import benefits-admin account",
                "q": q,
                "accounts": accounts,
                "errors": errors,
                "total": BenefitsAdminAccount.objects.count(),
                "refreshed": latest.refreshed_at if latest else None,
            },
        )

    def _rows(self, request, link) -> list[Row]:
        rows, post = [], request.POST
        for plan in link.group.plans.all():
            choice = post.get(f"choice-plan-{plan.pk}")
            if not choice:
                continue
            pair = post.get(f"pair-plan-{plan.pk}")
            truths = {f"truth_{c}": post.get(f"truth-{c}-plan-{plan.pk}") or Side.BENEFITS_ADMIN for c in ("details", "benefits", "rates")}
            rows.append(Row(plan=plan, product_id=int(pair) if pair and choice == "link" else None, choice=choice, **truths))
        paired = {r.product_id for r in rows}
        for key, choice in post.items():
            if key.startswith("choice-product-") and choice:
                product_id = int(key.removeprefix("choice-product-"))
                if product_id not in paired:
                    rows.append(Row(plan=None, product_id=product_id, choice=choice))
        return rows

    def choose_view(self, request, pk):
        link = get_object_or_404(AccountLink.objects.select_related("group"), pk=pk)
        if request.method == "POST" and not _can_edit(request):
            raise PermissionDenied
        errors, preview = [], None
        if request.method == "POST":
            rows = self._rows(request, link)
            try:
                if "save" in request.POST:
                    plan_choices_save(actor=request.user, link=link, rows=rows)
                    messages.success(request, f"{len(rows)} plan choice{'s' * (len(rows) != 1)} saved; the next sync (or Sync now) acts on them.")
                    return redirect("admin:plansync_accountlink_choose", link.pk)
                preview = plan_choices_preview(link=link, rows=rows)
            except ValidationError as exc:
                errors = _errors(exc)
        local, remote = choose_rows(plans_side_by_side(link), request.POST if request.method == "POST" else {})
        return TemplateResponse(
            request,
            "admin/plansync/choose.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Choose plans to sync: {link.group.name}",
                "link": link,
                "local": local,
                "remote": remote,
                "errors": errors,
                "preview": preview,
                "local_choices": LOCAL_CHOICES,
                "remote_choices": REMOTE_CHOICES,
                "sides": [(value, SIDE_SHORT[value]) for value in Side.values],
                "can_edit": _can_edit(request),
            },
        )

    def sync_view(self, request, pk):
        link = get_object_or_404(AccountLink, pk=pk)
        if request.method != "POST" or not _can_edit(request):
            raise PermissionDenied
        with transaction.atomic():
            plan_sync_request(actor=request.user, link=link)
        messages.success(request, f"Sync of {link.group.name} requested: see its runs.")
        return redirect(reverse("admin:plansync_plansyncrun_changelist") + f"?link__id__exact={link.pk}")


class PlanSyncItemInline(admin.TabularInline):
    model = PlanSyncItem
    fields = ["plan_label", "run_try", "status", "action", "reason", "changes_table"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="What changed")
    def changes_table(self, obj):
        """Each changed field, benefit and rate tier its own line ("Label: old → new"), under where it was written."""
        if not obj.changes:
            return shown.EMPTY
        by_direction: dict[str, dict] = {}
        for n, c in enumerate(obj.changes):
            by_direction.setdefault(c.get("direction", ""), {})[n] = {"label": c.get("field"), "old": c.get("old"), "new": c.get("new")}
        return format_html_join(
            "",
            '<div class="ad-change-group"><strong>{}</strong>{}</div>',
            ((direction[:1].upper() + direction[1:], shown.changes_html(lines)) for direction, lines in by_direction.items()),
        )


class QueueFilter(admin.SimpleListFilter):
    """The queues people know (In progress, Successful, Failed, Awaiting a person), each a set of statuses."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return Queue.choices

    def queryset(self, request, queryset):
        if self.value() in Queue.values:
            return queryset.filter(status__in=QUEUE_STATUSES[Queue(self.value())])
        return queryset


@admin.register(PlanSyncRun)
class PlanSyncRunAdmin(ReadOnlyModelAdmin):
    # The queue people know (not the status code beside it); the engine's counters are on the run's page.
    list_display = ["group_name", "asked_by", "queue_label", "created_at", "finished_at", "reason"]
    list_select_related = ["link__group", "requested_by"]
    list_filter = [QueueFilter, "status", "trigger", "link"]
    # What a person asks first (whose, why, what happened), then when, then the engine's counters folded away.
    fieldsets = [
        (None, {"fields": ["link", "trigger", "status", "requested_by_name", "reason"]}),
        ("When", {"fields": ["created_at", "started_at", "finished_at"]}),
        ("History, try by try", {"fields": ["history_list", "tries", "next_try_at", "http_calls"]}),
    ]
    readonly_fields = [f for _, options in fieldsets for f in options["fields"]]
    inlines = [PlanSyncItemInline]

    @admin.display(description="queue")
    def queue_label(self, obj):
        return format_html('<span class="ad-badge ad-badge-{}">{}</span>', obj.queue.value, obj.queue.label)  # one word, never broken

    @admin.display(description="employer group", ordering="link__group__name")
    def group_name(self, obj):
        return obj.link.group.name

    @admin.display(description="why")
    def asked_by(self, obj):
        name = person(obj.requested_by) if obj.requested_by_id else ""
        return f"{obj.get_trigger_display()} ({name})" if name else obj.get_trigger_display()

    @admin.display(description="requested by")
    def requested_by_name(self, obj):
        if obj.requested_by_id:
            return person(obj.requested_by)
        return "The hourly schedule" if obj.trigger == PlanSyncRun.Trigger.HOURLY else shown.EMPTY

    @admin.display(description="history")
    def history_list(self, obj):
        if not obj.history:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in obj.history)))


@admin.register(PlanSyncConflict)
class PlanSyncConflictAdmin(ReadOnlyModelAdmin):
    list_display = ["choice", "kind", "field_label", "local_shown", "remote_shown", "status", "resolve_links"]
    list_filter = ["status", "kind"]
    # The change page is where *Awaiting a person* links to: the conflict, and its resolve buttons.
    fields = [
        "choice",
        "kind",
        "field_label",
        "local_shown",
        "remote_shown",
        "agreed_shown",
        "status",
        "created_at",
        "resolved_by_name",
        "resolved_at",
        "resolve_links",
    ]
    readonly_fields = fields

    @admin.display(description="field")
    def field_label(self, obj):
        return FIELD_LABELS.get(obj.field, "—")

    @admin.display(description="AgencyDesk")
    def local_shown(self, obj):
        return conflict_value(obj.field, obj.local_value, obj.remote_value) if obj.kind == "field" else "—"

    @admin.display(description="Benefits-admin system")
    def remote_shown(self, obj):
        return conflict_value(obj.field, obj.remote_value, obj.local_value) if obj.kind == "field" else shown.text(obj.remote_value)

    @admin.display(description="last agreed value")
    def agreed_shown(self, obj):
        return display(obj.field, obj.agreed_value) if obj.kind == "field" else shown.text(obj.agreed_value)

    @admin.display(description="resolved by")
    def resolved_by_name(self, obj):
        return person(obj.resolved_by)

    @admin.display(description="Resolve")
    def resolve_links(self, obj):
        if obj.status != "open":
            return obj.get_resolution_display()
        options = ["agencydesk", "benefits_admin"] if obj.kind == "field" else ["keep", "archive"]
        return format_html_join(
            " ",
            '<form method="post" action="{}" style="display:inline">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button name="resolution" value="{}">{}</button></form>',
            (
                (reverse("admin:plansync_plansyncconflict_resolve", args=[obj.pk]), self._csrf, value, PlanSyncConflict.Resolution(value).label)
                for value in options
            ),
        )

    def changelist_view(self, request, extra_context=None):
        from django.middleware.csrf import get_token

        self._csrf = get_token(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.middleware.csrf import get_token

        self._csrf = get_token(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view), name="plansync_plansyncconflict_resolve"),
            *super().get_urls(),
        ]

    def resolve_view(self, request, pk):
        if request.method != "POST" or not _can_edit(request):
            raise PermissionDenied
        conflict = get_object_or_404(PlanSyncConflict, pk=pk)
        try:
            conflict_resolve(actor=request.user, conflict=conflict, resolution=request.POST.get("resolution", ""))
            messages.success(request, "Conflict resolved; the chosen value is written to the other side now.")
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        return redirect("admin:plansync_plansyncconflict_changelist")


# --- the home: the plan sync's queue and the conflicts awaiting a person (core.home) -----------------
def _plansync_queue_rows(request):
    url = reverse("admin:plansync_plansyncrun_changelist")
    failed = PlanSyncRun.objects.filter(status__in=QUEUE_STATUSES[Queue.FAILED]).count()
    running = PlanSyncRun.objects.filter(status__in=QUEUE_STATUSES[Queue.IN_PROGRESS]).count()
    return [
        home.HomeRow("Failed runs", url=f"{url}?queue={Queue.FAILED}", count=failed, tone="failed" if failed else ""),
        home.HomeRow("In progress", url=f"{url}?queue={Queue.IN_PROGRESS}", count=running, tone="running" if running else ""),
    ]


home.register(
    home.Panel(
        key="plansync_runs",
        section=home.QUEUES,
        title="Plan sync (benefits-admin system)",
        permission="plansync.view_plansyncrun",
        rows=_plansync_queue_rows,
    )
)
