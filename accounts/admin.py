from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class ViewerAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Spoiler preferences",
            {
                "fields": (
                    "hide_unwatched_titles",
                    "show_upcoming_titles",
                    "hide_unwatched_synopses",
                    "hide_unwatched_images",
                )
            },
        ),
        (
            "Email",
            {"fields": ("confirmed_email", "email_when_episode_airs", "email_weekly_digest")},
        ),
    )
    readonly_fields = ("confirmed_email",)

    # Through the same verb as the account page, so the user's parties go on and the login
    # records that name them go with them.
    def delete_model(self, request, obj):
        obj.delete_account()

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user.delete_account()
