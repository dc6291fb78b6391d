from django.urls import path

from . import views

# An episode's page sits beneath its show's, and its actions beneath its page (Episode.url,
# Episode.watch_url and the like build them so).
episode = "shows/<slug:slug>/s<int:season>/e<int:number>/"

urlpatterns = [
    path("", views.home, name="show-list"),
    path("browse/", views.browse, name="browse"),
    path("shows/<slug:slug>/", views.show_detail, name="show-detail"),
    path("shows/<slug:slug>/seasons/<int:number>/", views.season_episodes, name="season-episodes"),
    path("shows/<slug:slug>/seasons/<int:number>/watch/", views.season_watch, name="season-watch"),
    path("shows/<slug:slug>/cast/", views.cast, name="cast"),
    path(
        "shows/<slug:slug>/cast/<slug:character_slug>/",
        views.character_detail,
        name="character-detail",
    ),
    path("shows/<slug:slug>/story/", views.story, name="story"),
    path("shows/<slug:slug>/search/", views.search, name="search"),
    path("shows/<slug:slug>/follow/", views.follow, name="follow"),
    path("shows/<slug:slug>/fill-gap/", views.fill_gap, name="fill-gap"),
    path("shows/<slug:slug>/as-of/", views.set_as_of, name="set-as-of"),
    path("shows/<slug:slug>/tools/", views.progress_tools, name="progress-tools"),
    path("shows/<slug:slug>/previously/", views.previously, name="previously"),
    path(
        "shows/<slug:slug>/report/<str:kind>/<str:public_id>/",
        views.report_spoiler,
        name="report-spoiler",
    ),
    path("shows/<slug:slug>/parties/new/", views.party_create, name="party-create"),
    path("parties/<int:pk>/", views.party_detail, name="party-detail"),
    path("parties/<int:pk>/leave/", views.party_leave, name="party-leave"),
    path("parties/join/<str:token>/", views.party_join, name="party-join"),
    path("parties/join/<str:token>/confirm/", views.party_join_confirm, name="party-join-confirm"),
    path(episode, views.episode_detail, name="episode-detail"),
    path(f"{episode}watch/", views.change_watch, {"action": "watch"}, name="episode-watch"),
    path(f"{episode}unwatch/", views.change_watch, {"action": "unwatch"}, name="episode-unwatch"),
    path(
        f"{episode}watch-up-to/",
        views.change_watch,
        {"action": "up-to"},
        name="episode-watch-up-to",
    ),
    path(f"{episode}watch-up-to/confirm/", views.confirm_up_to, name="episode-confirm-up-to"),
    path(f"{episode}notes/", views.episode_notes, name="episode-notes"),
    path(f"{episode}show-anyway/", views.show_anyway, name="episode-show-anyway"),
    path(f"{episode}preview/", views.preview, name="preview"),
]
