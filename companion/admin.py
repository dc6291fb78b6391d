import re

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import (
    SEASON_STRIDE, Character, CharacterState, Episode, Recap, ReviewerNote, Season, Show, Watch,
)

admin.site.site_header = "Spoilerfree editors"
admin.site.site_title = "Spoilerfree admin"

EPISODE_CODE = re.compile(r"^(?:s(\d+)e(\d+)|(\d+)x(\d+))$", re.IGNORECASE)


class ParentShowInlineMixin:
    """Inline reveal-point choices list only episodes of the parent's show."""

    reveal_fields = ("reveal_at",)

    def show_of(self, parent):
        return parent.show

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        parent = getattr(request, "_admin_parent", None)
        if db_field.name in self.reveal_fields and parent is not None:
            kwargs["queryset"] = Episode.objects.filter(show=self.show_of(parent)).select_related("show")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RememberParentMixin:
    def get_form(self, request, obj=None, **kwargs):
        request._admin_parent = obj
        return super().get_form(request, obj, **kwargs)


class SeasonInline(admin.TabularInline):
    model = Season
    extra = 0
    show_change_link = True


@admin.register(Show)
class ShowAdmin(admin.ModelAdmin):
    list_display = ["title", "network", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SeasonInline]


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0
    fields = ["number", "title", "air_date", "synopsis"]
    show_change_link = True


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ["show", "number", "period", "premiere_date"]
    list_filter = ["show"]
    search_fields = ["show__title", "period"]
    inlines = [EpisodeInline]


class RecapInline(ParentShowInlineMixin, admin.StackedInline):
    model = Recap
    fk_name = "episode"
    extra = 0
    max_num = 1


class ReviewerNoteInline(ParentShowInlineMixin, admin.StackedInline):
    model = ReviewerNote
    fk_name = "episode"
    extra = 0
    fields = ["text", ("outlet", "author"), "article_title", "reveal_at"]


@admin.register(Episode)
class EpisodeAdmin(RememberParentMixin, admin.ModelAdmin):
    list_display = ["show", "code", "display_title", "air_date", "preview_link"]
    list_filter = ["show", "season__number"]
    list_select_related = ["show"]
    search_fields = ["title", "show__title"]
    ordering = ["show", "sequence"]
    inlines = [RecapInline, ReviewerNoteInline]

    @admin.display(description="Episode", ordering="sequence")
    def code(self, obj):
        return obj.code

    @admin.display(description="Preview")
    def preview_link(self, obj):
        url = reverse("preview", args=[obj.show.slug, obj.season_number, obj.number])
        return format_html('<a href="{}">Preview as a viewer at {}</a>', url, obj.code)

    def get_search_results(self, request, queryset, search_term):
        """Let editors find reveal points by code: "3x10" or "S3E10"."""
        match = EPISODE_CODE.match(search_term.strip())
        if match:
            season, number = (int(g) for g in match.groups() if g is not None)
            return queryset.filter(sequence=season * SEASON_STRIDE + number), False
        return super().get_search_results(request, queryset, search_term)


class CharacterStateInline(ParentShowInlineMixin, admin.TabularInline):
    model = CharacterState
    extra = 0
    fields = ["reveal_at", "status", "location", "affiliation", "description"]


@admin.register(Character)
class CharacterAdmin(RememberParentMixin, ParentShowInlineMixin, admin.ModelAdmin):
    list_display = ["name", "actor", "show", "first_appearance"]
    list_filter = ["show"]
    list_select_related = ["show", "first_appearance"]
    search_fields = ["name", "actor"]
    prepopulated_fields = {"slug": ["name"]}
    reveal_fields = ("first_appearance",)
    inlines = [CharacterStateInline]

    def show_of(self, parent):
        return parent.show


@admin.register(CharacterState)
class CharacterStateAdmin(admin.ModelAdmin):
    list_display = ["character", "as_of", "status", "location", "affiliation"]
    list_filter = ["character__show", "status"]
    list_select_related = ["character", "reveal_at"]
    search_fields = ["character__name", "location", "affiliation", "description"]
    autocomplete_fields = ["character", "reveal_at"]

    @admin.display(description="As of", ordering="reveal_at__sequence")
    def as_of(self, obj):
        return obj.reveal_at.code


@admin.register(Recap)
class RecapAdmin(admin.ModelAdmin):
    list_display = ["episode", "reveal_at"]
    list_filter = ["episode__show", "episode__season__number"]
    list_select_related = ["episode__show", "reveal_at__show"]
    search_fields = ["text"]
    autocomplete_fields = ["episode", "reveal_at"]


@admin.register(ReviewerNote)
class ReviewerNoteAdmin(admin.ModelAdmin):
    list_display = ["episode", "revealed", "source", "article_title"]
    list_filter = ["episode__show", "episode__season__number", "outlet"]
    list_select_related = ["episode__show", "reveal_at"]
    search_fields = ["text", "outlet", "author", "article_title"]
    autocomplete_fields = ["episode", "reveal_at"]

    @admin.display(description="Revealed at", ordering="reveal_at__sequence")
    def revealed(self, obj):
        return obj.reveal_at.code


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "episode", "watched_at"]
    list_filter = ["episode__show"]
    list_select_related = ["user", "episode__show"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "episode"]
