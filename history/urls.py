from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.history_import, name="history"),
    path("confirm/", views.history_confirm, name="history-confirm"),
    path("imports/<uuid:pk>/", views.history_import_status, name="history-import-status"),
    path(
        "export/trakt.json",
        views.history_export,
        {"fmt": "trakt.json"},
        name="history-export-trakt",
    ),
    path(
        "export/tvtime.csv",
        views.history_export,
        {"fmt": "tvtime.csv"},
        name="history-export-tvtime",
    ),
]

# Where these pages lived under Account; bookmarks and old links land on the new page.
old_urlpatterns = [
    path("", RedirectView.as_view(pattern_name="history", permanent=True)),
    path("confirm/", views.old_confirm),
    path(
        "export/trakt.json",
        RedirectView.as_view(pattern_name="history-export-trakt", permanent=True),
    ),
    path(
        "export/tvtime.csv",
        RedirectView.as_view(pattern_name="history-export-tvtime", permanent=True),
    ),
]
