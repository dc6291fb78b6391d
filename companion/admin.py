from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from .content import ContentError, dump_yaml, load_show
from .models import (
    Character,
    CharacterState,
    Episode,
    Party,
    Recap,
    ReviewerNote,
    Season,
    Show,
    SpoilerReport,
    Watch,
    early_mentions,
    parse_code,
)

admin.site.site_header = "Spoilerfree editors"
admin.site.site_title = "Spoilerfree admin"


class ImportShowForm(forms.Form):
    file = forms.FileField(help_text="A YAML or JSON content file; see docs/CONTENT_FORMAT.md.")


class ReviewOnEditForm(forms.ModelForm):
    """Editing imported text is reviewing it: a refresh from TVmaze leaves the row alone after."""

    edited_text = ("title", "synopsis", "premise", "network", "name", "actor")

    def clean(self):
        cleaned = super().clean()
        edited = set(self.changed_data) & set(self.edited_text)
        if "reviewed" in self.fields and "reviewed" not in self.changed_data and edited:
            cleaned["reviewed"] = True
        return cleaned


class SpoilerCheckForm(forms.ModelForm):
    """Refuses text that names a character before their first appearance."""

    def _post_clean(self):
        # After the model's own validation, so the instance carries the submitted text and reveal.
        super()._post_clean()
        if not self.errors:
            for message in early_mentions(self.instance):
                self.add_error(None, message[0].upper() + message[1:] + ".")


def episode_label(episode: Episode) -> str:
    """An episode in a list of one show's episodes: "3x10 Title"."""
    return f"{episode.code} {episode.display_title}"


class ParentShowInlineMixin:
    """Inline reveal-point choices list only episodes of the parent's show."""

    reveal_fields = ("reveal_at",)

    def show_of(self, parent):
        return parent.show

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        parent = getattr(request, "_admin_parent", None)
        if db_field.name in self.reveal_fields and parent is not None:
            kwargs["queryset"] = Episode.objects.filter(show=self.show_of(parent)).select_related(
                "show"
            )
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            # All of one show: the show's name would only push the code out of a narrow column.
            field.label_from_instance = episode_label
            return field
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.reveal_fields and field is not None:
            # A new character's show is not known yet: its episodes under each show's name.
            shows: dict[str, list] = {}
            for episode in Episode.objects.select_related("show").order_by("show", "sequence"):
                shows.setdefault(episode.show.title, []).append(
                    (episode.pk, episode_label(episode))
                )
            field.choices = [("", "---------"), *shows.items()]
        return field


class ResequenceMixin:
    """Episodes and seasons edited here are put in story order once the whole form is saved,
    inlines too (Episode.save and Season.save leave that to their writer)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        show = form.instance if isinstance(form.instance, Show) else form.instance.show
        show.resequence()


class RememberParentMixin:
    def get_form(self, request, obj=None, change=False, **kwargs):
        request._admin_parent = obj
        return super().get_form(request, obj, change, **kwargs)


class SeasonInline(admin.TabularInline):
    model = Season
    extra = 0
    show_change_link = True


@admin.register(Show)
class ShowAdmin(ResequenceMixin, admin.ModelAdmin):
    form = ReviewOnEditForm
    list_display = ["title", "network", "slug", "status", "reviewed"]
    list_filter = ["reviewed"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SeasonInline]
    change_list_template = "admin/companion/show/change_list.html"
    change_form_template = "admin/companion/show/change_form.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="companion_show_import",
            ),
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="companion_show_export",
            ),
        ] + super().get_urls()

    def export_view(self, request, pk: int):
        """The show as a content file (what `manage.py export_show` prints), as a download."""
        show = get_object_or_404(Show, pk=pk)
        if not self.has_view_permission(request, show):
            raise PermissionDenied
        response = HttpResponse(dump_yaml(show), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{show.slug}.yaml"'
        return response

    def import_view(self, request):
        """Upload a content file; a bad one changes nothing and lists every problem."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportShowForm(request.POST or None, request.FILES or None)
        problems = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                show = load_show(upload.read().decode("utf-8"))
            except UnicodeDecodeError:
                problems = ["The file is not UTF-8 text."]
            except ContentError as error:
                problems = error.problems
            else:
                self.message_user(request, f"Imported {show.title}.", messages.SUCCESS)
                return redirect("admin:companion_show_change", show.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "problems": problems,
            "title": "Import a show",
            "opts": self.model._meta,
        }
        return render(request, "admin/companion/show/import.html", context)


class EpisodeInline(ParentShowInlineMixin, admin.TabularInline):
    model = Episode
    extra = 0
    form = ReviewOnEditForm
    fields = ["number", "title", "air_date", "airs_after", "synopsis", "reviewed", "written"]
    readonly_fields = ["written"]
    show_change_link = True
    reveal_fields = ("airs_after",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                note_count=Count("notes"),
                has_recap=Exists(Recap.objects.filter(episode=OuterRef("pk"))),
            )
        )

    @admin.display(description="Written")
    def written(self, obj):
        if obj.pk is None:
            return ""
        recap = "recap" if obj.has_recap else "no recap"
        return f"{recap}, {obj.note_count} note{'s' if obj.note_count != 1 else ''}"


@admin.register(Season)
class SeasonAdmin(ResequenceMixin, RememberParentMixin, ParentShowInlineMixin, admin.ModelAdmin):
    list_display = ["show", "number", "period", "premiere_date"]
    list_filter = ["show"]
    search_fields = ["show__title", "period"]
    inlines = [EpisodeInline]
    reveal_fields = ("period_revealed_at",)


class RecapInline(ParentShowInlineMixin, admin.StackedInline):
    model = Recap
    form = SpoilerCheckForm
    fk_name = "episode"
    extra = 0
    max_num = 1


class ReviewerNoteInline(ParentShowInlineMixin, admin.StackedInline):
    model = ReviewerNote
    form = SpoilerCheckForm
    fk_name = "episode"
    extra = 0
    fields = ["text", ("outlet", "author"), "article_title", "url", "reveal_at"]


@admin.register(Episode)
class EpisodeAdmin(ResequenceMixin, RememberParentMixin, admin.ModelAdmin):
    form = ReviewOnEditForm
    list_display = ["show", "code", "display_title", "air_date", "reviewed", "preview_link"]
    list_filter = ["show", "season__number", "reviewed"]
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
        code = parse_code(search_term)
        if code is not None:
            return queryset.filter(season_number=code[0], number=code[1]), False
        return super().get_search_results(request, queryset, search_term)


class CharacterStateInline(ParentShowInlineMixin, admin.TabularInline):
    model = CharacterState
    form = SpoilerCheckForm
    extra = 0
    fields = ["reveal_at", "status", "location", "affiliation", "description", "sources"]


@admin.register(Character)
class CharacterAdmin(RememberParentMixin, ParentShowInlineMixin, admin.ModelAdmin):
    form = ReviewOnEditForm
    list_display = ["name", "actor", "show", "first_appearance", "reviewed"]
    list_filter = ["show", "reviewed"]
    list_select_related = ["show", "first_appearance"]
    search_fields = ["name", "actor"]
    prepopulated_fields = {"slug": ["name"]}
    reveal_fields = ("first_appearance",)
    inlines = [CharacterStateInline]


@admin.register(CharacterState)
class CharacterStateAdmin(admin.ModelAdmin):
    form = SpoilerCheckForm
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
    form = SpoilerCheckForm
    list_display = ["episode", "reveal_at"]
    list_filter = ["episode__show", "episode__season__number"]
    list_select_related = ["episode__show", "reveal_at__show"]
    search_fields = ["text"]
    autocomplete_fields = ["episode", "reveal_at"]


@admin.register(ReviewerNote)
class ReviewerNoteAdmin(admin.ModelAdmin):
    form = SpoilerCheckForm
    list_display = ["episode", "revealed", "citation"]
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


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["name", "show", "created_by", "created_at"]
    list_filter = ["show"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(SpoilerReport)
class SpoilerReportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "reported_content",
        "current_reveal",
        "reporter_point",
        "reporter",
        "resolved",
    ]
    list_filter = ["resolved", "kind", "reporter_safe_point__show"]
    list_select_related = [
        "reporter",
        "reporter_safe_point",
        "recap__reveal_at",
        "note__reveal_at",
        "state__reveal_at",
        "state__character",
    ]
    readonly_fields = [
        "reporter",
        "kind",
        "recap",
        "note",
        "state",
        "reporter_safe_point",
        "message",
        "created_at",
    ]
    actions = ["move_reveal_later"]

    @admin.display(description="Content")
    def reported_content(self, obj):
        content = obj.content
        text = (
            f"{content.character.name}: {content.description}"
            if obj.kind == "state"
            else content.text
        )
        return text[:160]

    @admin.display(description="Reveal now")
    def current_reveal(self, obj):
        return obj.content.reveal_at.code

    @admin.display(description="Reporter's point", ordering="reporter_safe_point__sequence")
    def reporter_point(self, obj):
        return obj.reporter_safe_point.code

    @admin.action(description="Move the reveal point to just after the reporter's point")
    def move_reveal_later(self, request, queryset):
        for report in queryset.select_related("reporter_safe_point"):
            try:
                moved = report.move_reveal_after_reporter()
            except ValidationError as error:
                self.message_user(
                    request,
                    f"{report}: not moved, nothing changed. {' '.join(error.messages)}",
                    messages.ERROR,
                )
                continue
            if moved is None:
                self.message_user(
                    request,
                    f"{report}: the reporter is at the last episode; edit the content instead.",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"{report.get_kind_display()} now revealed at {moved.code}.",
                    messages.SUCCESS,
                )
