from django.urls import path

from . import views

urlpatterns = [
    path("", views.connections, name="connections"),
    path("revoke/", views.revoke, name="connections-revoke"),
]

# Under /api/, so that anything Django itself answers there (405, a crash) is JSON too.
hook_urlpatterns = [
    path("<slug:server>/<str:secret>/", views.receive, name="media-hook"),
]
