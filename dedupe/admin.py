"""Admin for matching rules (editable) and the record of groups, merges and decisions
(read-only: decisions are taken on the review pages, which call the services)."""
from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from . import selectors, sources
from .models import DuplicateGroup, DuplicateMember, MatchRun, MatchSource, MergeJob, MergeStep, NotDuplicate


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept for reference: listed and shown, never added or edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MatchSourceForm(forms.ModelForm):
    class Meta:
        model = MatchSource
        fields = ["connection", "object_name", "enabled", "exact_fields", "fuzzy_name", "use_phone", "use_company", "use_address", "threshold",
                  "birth_date_field"]

    def clean_exact_fields(self):
        value = self.cleaned_data["exact_fields"]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise forms.ValidationError('Give a list of field names, e.g. ["Email", "Customer_ID__c"].')
        return [v.strip() for v in value]

    def clean_threshold(self):
        value = self.cleaned_data["threshold"]
        if not 0 < value <= 1:
            raise forms.ValidationError("Give a number between 0 and 1, e.g. 0.8 for 80 %.")
        return value

    def clean(self):
        data = super().clean()
        connection, object_name = data.get("connection"), data.get("object_name")
        if connection and object_name and not sources.supported(connection.kind, object_name):
            supported = ", ".join(f"{o} ({sources.SYSTEM_LABELS.get(k, k)})" for k, o in sources.FIELD_MAPS)
            self.add_error("object_name", f"People can be matched in {supported}; not in {object_name} of {connection.get_kind_display()}.")
        return data


@admin.register(MatchSource)
class MatchSourceAdmin(admin.ModelAdmin):
    form = MatchSourceForm
    list_display = ["__str__", "enabled", "exact_fields", "fuzzy_name", "use_phone", "use_company", "use_address", "threshold", "last_run_at", "mapping_warning"]
    list_filter = ["enabled", "connection"]
    readonly_fields = ["watermark", "last_run_at", "mapping_warning"]
    fieldsets = [
        (None, {"fields": ["connection", "object_name", "enabled"]}),
        ("Matching rules", {"fields": ["exact_fields", "fuzzy_name", "use_phone", "use_company", "use_address", "threshold",
                                       "birth_date_field", "mapping_warning"]}),
        ("Progress", {"fields": ["watermark", "last_run_at"]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "connection":
            from syncconfig.models import Connection

            kwargs["queryset"] = Connection.objects.filter(kind__in=sources.SYSTEM_LABELS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    RULE_FIELDS = {"exact_fields", "fuzzy_name", "use_phone", "use_company", "use_address", "threshold", "enabled", "birth_date_field"}

    def save_model(self, request, obj, form, change):
        if change and self.RULE_FIELDS & set(form.changed_data):
            # Groups found under the old rules are rebuilt: the next pass reads this object again.
            obj.watermark = ""
            self.message_user(request, "The next matching pass reads this object again and regroups it under the new rules.")
        super().save_model(request, obj, form, change)

    @admin.display(description="warnings")
    def mapping_warning(self, obj):
        unmapped = selectors.matchsource_unmapped_keys(obj) if obj and obj.pk else []
        if not unmapped:
            return "—"
        return format_html('<span class="badge badge-partial">{}</span>',
                           f"Used for matching but not mapped to HubSpot: {', '.join(unmapped)}")


class DuplicateMemberInline(ReadOnlyInline):
    model = DuplicateMember
    fields = ["label", "connection", "object_name", "record_id", "email", "proposed_master", "why"]


@admin.register(DuplicateGroup)
class DuplicateGroupAdmin(ReadOnlyAdmin):
    list_display = ["title", "object_name", "size", "confidence_percent", "kind", "systems", "status", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title"]
    show_full_result_count = False
    fields = ["title", "object_name", "size", "confidence", "kind", "systems", "status", "decided_by", "decided_at", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [DuplicateMemberInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return reverse("duplicate_group", args=[obj.pk])

    @admin.display(description="confidence", ordering="confidence")
    def confidence_percent(self, obj):
        return f"{round(obj.confidence * 100)} %"


class MergeStepInline(ReadOnlyInline):
    model = MergeStep
    fields = ["position", "system", "action", "object_name", "master_id", "merged_ids", "status", "message", "before", "after", "done_at"]
    readonly_fields = fields


@admin.register(MergeJob)
class MergeJobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "batch", "steps_done", "steps_total", "requested_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=batch"]
    list_select_related = ["group", "requested_by"]
    fields = ["group", "status", "batch", "master_key", "choices", "hubspot_action", "steps_total", "steps_done", "message",
              "requested_by", "created_at", "finished_at"]
    readonly_fields = fields
    inlines = [MergeStepInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return reverse("merge_job", args=[obj.pk])


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "trigger", "status", "full", "records_read", "records_matched", "groups_found", "api_calls", "finished_at"]
    list_filter = ["status", "trigger"]
    fields = list_display + ["message"]
    readonly_fields = fields


@admin.register(NotDuplicate)
class NotDuplicateAdmin(ReadOnlyAdmin):
    """Deleting a decision (superusers) lets the matcher group the pair again."""

    list_display = ["key_a", "key_b", "decided_by", "decided_at"]
    search_fields = ["key_a", "key_b"]
    list_select_related = ["decided_by"]
    fields = list_display
    readonly_fields = fields
