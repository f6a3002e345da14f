"""Admin for configuration and run history: thin, every action calls a service."""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from connectors.registry import VENDORS, all_credential_fields

from . import services
from .forms import ConnectionForm, SyncForm
from .models import (
    CompletenessCheck,
    CompletenessItem,
    Connection,
    FieldMapping,
    RecordError,
    RecordLink,
    RecordLinkEvent,
    RecordTypeChoice,
    Sync,
    SyncRule,
    SyncRun,
)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "kind", "base_url", "health_badge", "last_checked_at"]
    list_filter = ["kind", "is_active", "last_check_ok"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["last_checked_at", "last_check_message", "webhook_secret_hint"]
    actions = ["test_connections"]
    change_form_template = "admin/syncconfig/connection/change_form.html"

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "kind", "base_url", "is_active"]}),
            ("Credentials", {"fields": list(all_credential_fields()), "description": "Secrets are encrypted at rest and never shown again."}),
            ("Large reads", {"fields": ["bulk_read_from"]}),
            ("Last test", {"fields": ["last_checked_at", "last_check_message", "webhook_secret_hint"]}),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["vendor_credentials"] = {v.kind: [f.name for f in v.credential_fields] for v in VENDORS.values()}
        context["vendor_base_urls"] = {v.kind: v.default_base_url for v in VENDORS.values()}
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="health", ordering="last_check_ok")
    def health_badge(self, obj):
        return format_html('<span class="badge badge-{}">{}</span>', obj.health, obj.health)

    @admin.display(description="webhook secret")
    def webhook_secret_hint(self, obj):
        return "set" if obj.webhook_secret else "—"

    @admin.action(description="Test selected connections")
    def test_connections(self, request, queryset):
        results = [services.connection_test(connection=c) for c in queryset]
        failed = results.count(False)
        self.message_user(
            request,
            ngettext("%(ok)d of %(n)d connection works.", "%(ok)d of %(n)d connections work.", len(results))
            % {"ok": len(results) - failed, "n": len(results)},
            messages.SUCCESS if not failed else messages.WARNING,
        )

    def get_urls(self):
        return [
            path("<int:pk>/test/", self.admin_site.admin_view(self.test_view), name="syncconfig_connection_test"),
            *super().get_urls(),
        ]

    def test_view(self, request, pk):
        connection = get_object_or_404(Connection, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, connection):
            return redirect("admin:syncconfig_connection_change", pk)
        ok = services.connection_test(connection=connection)
        self.message_user(request, connection.last_check_message, messages.SUCCESS if ok else messages.ERROR)
        return redirect("admin:syncconfig_connection_change", pk)


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    extra = 0
    fields = ["position", "source_field", "target_field", "is_key", "to_target", "to_source"]

    def get_formset(self, request, obj=None, **kwargs):
        """Offer the fields the two systems report (AC-3) instead of free text."""
        formset = super().get_formset(request, obj, **kwargs)
        field_choices = getattr(request, "sync_field_choices", None)
        if obj is None or field_choices is None:
            return formset
        for side, choices in field_choices.items():
            name = f"{side}_field"
            if isinstance(choices, str):
                messages.warning(request, f"Could not read the {side}'s fields, type them by hand. {choices}")
                continue
            current = set(FieldMapping.objects.filter(sync=obj).values_list(name, flat=True)) - {c for c, _ in choices}
            extra = [(value, f"{value} (not in the system any more)") for value in sorted(current)]
            formset.form.base_fields[name] = forms.ChoiceField(
                label=formset.form.base_fields[name].label, choices=[("", "—")] + choices + extra,
            )
        return formset


class RecordTypeChoiceInline(admin.TabularInline):
    model = RecordTypeChoice
    extra = 0


class SyncRuleInline(admin.TabularInline):
    model = SyncRule
    extra = 0


@admin.register(Sync)
class SyncAdmin(admin.ModelAdmin):
    form = SyncForm
    list_display = ["name", "source", "source_object", "direction_arrow", "target", "target_object", "trigger", "enabled", "open_errors"]
    list_filter = ["enabled", "trigger", "source__kind", "target__kind"]
    search_fields = ["name"]
    inlines = [FieldMappingInline, RecordTypeChoiceInline, SyncRuleInline]
    actions = ["run_now"]
    fieldsets = [
        (None, {"fields": ["name", ("source", "source_object"), ("target", "target_object"), "integration", "direction"]}),
        ("Idempotent creates", {"fields": ["target_id_field", "source_id_field"],
                                "description": "External-id fields that carry the other side's id, so that a replayed run never creates twice."}),
        ("When it runs", {"fields": ["trigger", "enabled", "every_minutes", "crontab"]}),
        ("Completeness", {"fields": ["completeness_every_hours"],
                          "description": "A scheduled check that every record in scope is on the other side; its result shows on the sync's page and the dashboard."}),
        ("Progress", {"fields": ["source_watermark", "target_watermark"], "classes": ["collapse"]}),
    ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The systems are asked for their fields here, before the admin opens its database
        # transaction: a vendor call inside it would hold the (SQLite) database meanwhile.
        sync = self.get_object(request, unquote(object_id)) if object_id else None
        if sync is not None:
            request.sync_field_choices = services.sync_field_choices(sync)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def view_on_site(self, obj):
        return reverse("sync_detail", args=[obj.pk])

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "target").annotate(
            _open_errors=Count("record_errors", filter=Q(record_errors__state=RecordError.State.OPEN))
        )

    @admin.display(description="")
    def direction_arrow(self, obj):
        return "⇄" if obj.direction == Sync.Direction.TWO_WAY else "→"

    @admin.display(description="open errors", ordering="_open_errors")
    def open_errors(self, obj):
        if not obj._open_errors:
            return 0
        url = reverse("admin:syncconfig_recorderror_changelist") + f"?sync__id__exact={obj.pk}&state__exact=open"
        return format_html('<a href="{}">{}</a>', url, obj._open_errors)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.sync_unstop(sync=form.instance)  # saved again: it may run by itself once more
        services.sync_schedule_set(
            sync=form.instance, every_minutes=form.cleaned_data.get("every_minutes"), crontab=form.cleaned_data.get("crontab", "")
        )

    def has_run_permission(self, request):
        return request.user.has_perm("syncconfig.run_sync")

    @admin.action(description="Run selected syncs now", permissions=["run"])
    def run_now(self, request, queryset):
        runs = [services.sync_run_request_if_idle(sync=sync, trigger="manual", user=request.user) for sync in queryset]
        n, busy = sum(r is not None for r in runs), sum(r is None for r in runs)
        message = ngettext("Queued %d run.", "Queued %d runs.", n) % n
        if busy:
            message += " " + ngettext("%d sync already had a run under way.", "%d syncs already had a run under way.", busy) % busy
        self.message_user(request, message, messages.SUCCESS if not busy else messages.WARNING)


class RecordErrorInline(admin.TabularInline):
    model = RecordError
    extra = 0
    fields = ["object_name", "record_id", "error_class", "field", "message", "state"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Runs, errors and links are written by the engine, never typed in by hand."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "sync", "trigger", "status", "read_count", "created_count", "updated_count", "skipped_count", "failed_count", "source_api_calls", "target_api_calls", "duration"]
    list_filter = ["status", "trigger", "sync"]
    list_select_related = ["sync"]
    date_hierarchy = "started_at"
    inlines = [RecordErrorInline]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecordError)
class RecordErrorAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "sync", "object_name", "record_id", "error_class", "field", "message", "state", "attempts"]
    list_filter = ["state", "error_class", "sync"]
    list_select_related = ["sync"]
    search_fields = ["record_id", "message"]
    readonly_fields = ["run", "sync", "side", "object_name", "record_id", "error_class", "code", "field", "message", "payload", "attempts", "created_at", "resolved_at"]
    fields = readonly_fields + ["state", "not_before"]
    actions = ["ignore"]

    @admin.action(description="Ignore selected failed records", permissions=["change"])
    def ignore(self, request, queryset):
        n = queryset.filter(state=RecordError.State.OPEN).update(state=RecordError.State.IGNORED)
        self.message_user(request, ngettext("Ignored %d failed record.", "Ignored %d failed records.", n) % n, messages.SUCCESS)


class RecordLinkEventInline(admin.TabularInline):
    model = RecordLinkEvent
    extra = 0
    readonly_fields = ["at", "action", "old_target_id", "new_target_id", "reason", "run", "user"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RecordLink)
class RecordLinkAdmin(ReadOnlyAdmin):
    list_display = ["sync", "source_object", "source_id", "target_object", "target_id", "pinned", "updated_at"]
    list_select_related = ["sync"]
    list_filter = ["sync", "pinned"]
    search_fields = ["source_id", "target_id"]
    readonly_fields = ["sync", "source_object", "source_id", "target_object", "target_id", "created_at", "updated_at"]
    inlines = [RecordLinkEventInline]


class CompletenessItemInline(admin.TabularInline):
    model = CompletenessItem
    extra = 0
    fields = ["category", "side", "object_name", "record_id", "partner_id", "key_value", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CompletenessCheck)
class CompletenessCheckAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "sync", "trigger", "status", "summary", "in_scope", "source_api_calls", "target_api_calls"]
    list_filter = ["status", "trigger", "sync"]
    list_select_related = ["sync__source", "sync__target"]
    date_hierarchy = "started_at"
    inlines = [CompletenessItemInline]

    def has_change_permission(self, request, obj=None):
        return False
