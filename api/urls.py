from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("v1/docs/", views.docs, name="api-docs"),
    path("v1/", api.urls),
]
