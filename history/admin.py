from django.contrib import admin

from .models import HistoryImport


@admin.register(HistoryImport)
class HistoryImportAdmin(admin.ModelAdmin):
    """Imports as viewers queued them; the job's own state and traceback are under Tasks."""

    list_display = ["user", "created_at", "status", "episodes", "added", "error"]
    list_filter = ["status"]
    readonly_fields = ["user", "created_at", "finished_at", "status", "episodes", "added", "error"]
    search_fields = ["user__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
