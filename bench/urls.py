"""The site's URLs plus /bench/ok/, the floor that `python -m bench` compares page throughput with."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def ok(request: HttpRequest) -> HttpResponse:
    """The cheapest Django response: the full middleware stack, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


def ok_user(request: HttpRequest) -> HttpResponse:
    """The same, plus what every page pays first: loading the session and the logged-in user."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


urlpatterns = [
    path("bench/ok/", ok),
    path("bench/ok-user/", ok_user),
    path("", include("config.urls")),
]
