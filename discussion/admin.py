from django.contrib import admin, messages

from companion.models import Episode

from .models import Post, PostReport, Rating, Suspension


def suspend_writers(modeladmin, request, users) -> None:
    for user in users:
        Suspension.objects.update_or_create(user=user, defaults={"until": None})
    modeladmin.message_user(
        request, f"Suspended {len(users)} writer{'s' if len(users) != 1 else ''}.", messages.SUCCESS
    )


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["created_at", "excerpt", "episode", "reveal_point", "writer", "party", "hidden"]
    list_filter = ["hidden", "episode__show"]
    list_select_related = ["episode__show", "reveal_at", "author", "party"]
    search_fields = ["text", "author__username", "author__display_name"]
    fields = [
        "episode",
        "reveal_at",
        "party",
        "parent",
        "author",
        "text",
        "hidden",
        "created_at",
        "edited_at",
    ]
    readonly_fields = ["episode", "party", "parent", "author", "created_at", "edited_at"]
    actions = ["hide", "unhide", "suspend"]

    def has_add_permission(self, request):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Reveal points from the post's own show only.
        if db_field.name == "reveal_at" and (pk := request.resolver_match.kwargs.get("object_id")):
            post = Post.objects.filter(pk=pk).select_related("episode").first()
            if post is not None:
                kwargs["queryset"] = Episode.objects.filter(show_id=post.episode.show_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Text")
    def excerpt(self, obj):
        return obj.text[:120]

    @admin.display(description="Reveal", ordering="reveal_at__sequence")
    def reveal_point(self, obj):
        return obj.reveal_at.code

    @admin.display(description="Writer", ordering="author__username")
    def writer(self, obj):
        return obj.author.shown_name

    @admin.action(description="Hide the selected posts (and their replies)")
    def hide(self, request, queryset):
        self.message_user(request, f"Hid {queryset.update(hidden=True)} posts.", messages.SUCCESS)

    @admin.action(description="Show the selected posts again")
    def unhide(self, request, queryset):
        self.message_user(
            request, f"Showed {queryset.update(hidden=False)} posts.", messages.SUCCESS
        )

    @admin.action(description="Suspend the writers of the selected posts")
    def suspend(self, request, queryset):
        suspend_writers(
            self, request, list({post.author for post in queryset.select_related("author")})
        )


@admin.register(PostReport)
class PostReportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "excerpt",
        "current_reveal",
        "reporter_point",
        "reporter",
        "resolved",
    ]
    list_filter = ["resolved", "reporter_safe_point__show"]
    list_select_related = ["reporter", "reporter_safe_point", "post__reveal_at", "post__author"]
    readonly_fields = ["post", "reporter", "reporter_safe_point", "message", "created_at"]
    actions = ["move_reveal_later", "hide_post", "suspend_writer"]

    @admin.display(description="Post")
    def excerpt(self, obj):
        return obj.post.text[:160]

    @admin.display(description="Reveal now")
    def current_reveal(self, obj):
        return obj.post.reveal_at.code

    @admin.display(description="Reporter's point", ordering="reporter_safe_point__sequence")
    def reporter_point(self, obj):
        return obj.reporter_safe_point.code

    @admin.action(description="Move the post's reveal point to just after the reporter's point")
    def move_reveal_later(self, request, queryset):
        for report in queryset.select_related("reporter_safe_point", "post__reveal_at"):
            moved = report.move_reveal_after_reporter()
            if moved is None:
                self.message_user(
                    request,
                    f"{report}: the reporter is at the last episode; hide the post instead.",
                    messages.WARNING,
                )
            else:
                self.message_user(request, f"Post now revealed at {moved.code}.", messages.SUCCESS)

    @admin.action(description="Hide the reported posts")
    def hide_post(self, request, queryset):
        Post.objects.filter(pk__in=queryset.values("post_id")).update(hidden=True)
        queryset.update(resolved=True)
        self.message_user(request, "Hidden.", messages.SUCCESS)

    @admin.action(description="Suspend the writers of the reported posts")
    def suspend_writer(self, request, queryset):
        suspend_writers(
            self, request, list({r.post.author for r in queryset.select_related("post__author")})
        )


@admin.register(Suspension)
class SuspensionAdmin(admin.ModelAdmin):
    list_display = ["user", "until", "reason", "created_at"]
    raw_id_fields = ["user"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["episode", "stars", "user", "rated_at"]
    list_select_related = ["episode__show", "user"]
    list_filter = ["episode__show"]
