"""The site's URLs: each app's own, and the admin."""

from django.contrib import admin
from django.urls import include, path

from api import views as api_views
from catalogue import views as catalogue_views
from connections.urls import hook_urlpatterns as hook_urls
from history.urls import old_urlpatterns as old_history_urls

urlpatterns = [
    path("", include("companion.urls")),
    path("", include("discussion.urls")),
    path("", include("upcoming.urls")),
    path("accounts/history/", include(old_history_urls)),
    path("accounts/tokens/", api_views.tokens, name="api-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", api_views.revoke_token, name="api-token-revoke"),
    path("accounts/connections/", include("connections.urls")),
    path("accounts/", include("accounts.urls")),
    path("history/", include("history.urls")),
    path("api/hooks/", include(hook_urls)),
    path("api/", include("api.urls")),
    path("admin/catalogue/tvmaze/", catalogue_views.search, name="catalogue-search"),
    path("admin/catalogue/tvmaze/import/", catalogue_views.start_import, name="catalogue-import"),
    path("admin/", admin.site.urls),
]

# A database busy with another writer answers 503 "try again" (companion.middleware.server_error).
handler400 = "companion.middleware.bad_request"
handler500 = "companion.middleware.server_error"
