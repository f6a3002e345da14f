from django.contrib import admin

from .models import DuplicateGroup


@admin.register(DuplicateGroup)
class DuplicateGroupAdmin(admin.ModelAdmin):
    list_display = ["object_name", "size", "confidence", "status", "created_at"]
    list_filter = ["status", "object_name"]
    readonly_fields = ["object_name", "size", "confidence", "decided_by", "decided_at", "created_at"]

    def has_add_permission(self, request):
        return False
