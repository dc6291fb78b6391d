"""The site's URLs: each app's own, and the admin."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api import views as api_views
from catalogue import media
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

# Images in the local storage are served by the site (in development, and in production unless
# MEDIA_URL points at a bucket or CDN that serves them itself: docs/DEPLOY.md).
if not urlsplit(settings.MEDIA_URL).netloc:
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", media.image, name="stored-image")
    )

# A database busy with another writer answers 503 "try again" (config.middleware.server_error).
handler400 = "config.middleware.bad_request"
handler500 = "config.middleware.server_error"
