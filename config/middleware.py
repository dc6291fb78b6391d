import json
import sys

from django.conf import settings
from django.db import OperationalError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
)
from django.middleware import common
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import escape_leading_slashes
from django.views import defaults
from django_htmx.http import reswap, retarget

# What a client error means for the viewer: the htmx fragment and the error page both say this.
ERROR_MESSAGES = {
    400: "That request could not be understood, so nothing was changed.",
    403: "You cannot do that, or the page was out of date. Nothing was changed; reload and try again.",
    404: "There is nothing here, or nothing you can see yet.",
    405: "That page cannot be used this way, so nothing was changed.",
    413: "That request was too large, so nothing was changed.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    503: "The site is busy for a moment, so that may not have been saved. Please try again in a few seconds.",
}
# Seconds a client is asked to wait after a 503 (the database busy with another writer).
BUSY_RETRY_AFTER = 5


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for login rate limiting.

    With PROXY_COUNT reverse proxies in front, each appends the address it saw to X-Forwarded-For,
    so the client is that many entries from the right; entries further left are whatever the client
    sent and cannot be trusted.
    """
    if settings.PROXY_COUNT:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= settings.PROXY_COUNT:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


class HttpResponsePermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class CommonMiddleware(common.CommonMiddleware):
    """Django's, with the missing trailing slash added by a 308, which keeps the method and body.

    Clients follow a 301 to a POST's URL with a GET (the mark is silently lost), so Django refuses a
    POST in DEBUG and sends the 301 in production; a 308 is followed with the same POST.
    """

    response_redirect_class = HttpResponsePermanentRedirectKeepingMethod

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        # As Django's, without its DEBUG error for a POST: a 308 keeps the POST.
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))


class RejectNulMiddleware:
    """A NUL character in the URL is refused before any view reads it: PostgreSQL cannot store or
    compare text holding one, so each lookup would be a 500 (SQLite answered as if it were text).

    In the path it is a 404, as any other unknown URL; in the query string a 400. Form bodies are
    checked by Django's forms (CharField refuses NUL), JSON and files where they are read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if "\x00" in request.path_info:
            return HttpResponseNotFound()
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest()
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Every page depends on who is asking, so no shared cache may keep one and serve it to another.

    `no-store` also keeps pages out of the back/forward cache, so the back button after
    "unwatch" or logging out cannot show content that is no longer safe. Responses vary on the
    cookie and on HX-Request, since a URL can answer with a page or with an htmx fragment.
    A stored image (catalogue.media) is the same for everyone who has its name: it is left to
    be cached forever.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if getattr(response, "same_for_everyone", False):
            return response
        patch_cache_control(response, private=True, no_store=True)
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response


def is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class FriendlyErrorsMiddleware:
    """Client errors get a page for browsers and a short message fragment for htmx requests.

    JSON errors (the API's) are left as they are: a client reading JSON gets JSON.

    The htmx fragment is retargeted at the page's message area, so a failed click explains itself
    instead of swapping an error page into the middle of the episode list.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        message = ERROR_MESSAGES.get(response.status_code)
        if message is None or response.streaming or is_json(response):
            return response
        if getattr(request, "htmx", False):
            response.content = render_to_string("_error_fragment.html", {"message": message})
            response["Content-Type"] = "text/html; charset=utf-8"
            retarget(response, "#messages")
            reswap(response, "innerHTML")
        elif not response.content:
            response.content = render_to_string(f"{response.status_code}.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response


def database_busy(error: BaseException | None) -> bool:
    """SQLite gave up waiting for another connection's write lock (after its busy timeout)."""
    while error is not None:
        if isinstance(error, OperationalError) and "locked" in str(error):
            return True
        # The session's save on the way out turns it into SessionInterrupted, a 400.
        error = error.__cause__ or error.__context__
    return False


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 "try again", with Retry-After: JSON under /api/, the message fragment for htmx, or a page."""
    message = ERROR_MESSAGES[503]
    if request.path.startswith("/api/"):
        response = HttpResponse(json.dumps({"detail": message}), content_type="application/json")
    elif request.headers.get("HX-Request") == "true":
        response = HttpResponse(render_to_string("_error_fragment.html", {"message": message}))
        retarget(response, "#messages")
        reswap(response, "innerHTML")
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}))
    response.status_code = 503
    response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database busy with another writer is a "try again" 503, not an error page.

    Django calls it for any exception a view or a middleware let through, so this is the one place
    (with bad_request, for the session saved on the way out); in DEBUG Django shows its traceback.
    """
    if database_busy(sys.exc_info()[1]):
        return busy_response(request)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: the session's save on the way out, busy, says "try again" too."""
    if database_busy(exception):
        return busy_response(request)
    return defaults.bad_request(request, exception)
