from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class ViewerAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Spoiler preferences", {"fields": ("hide_unwatched_titles", "hide_unwatched_synopses")}),
    )
