"""Request types for view signatures, and the one check of where a `next` may send the viewer."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from accounts.models import User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request behind a login-required decorator: its user is never anonymous."""

    user: User


def local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site, else None: a `next` is a path or nothing.

    Only "/..." is taken: never a URL name (redirect() would reverse "logout"), a relative path,
    "//host" or a slash and a backslash (browsers read both as another site), nor a control
    character (browsers drop tabs and newlines, so a slash, a tab and "/host" is "//host").
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return None
    return value


def redirect_to_next(value: str | None, fallback: str) -> HttpResponseRedirect:
    """Back to `next` when it is a path on this site, else to `fallback` (a path or URL we made)."""
    return HttpResponseRedirect(local_path(value) or fallback)


def login_required_htmx(view):
    """login_required that sends an htmx request to the login page as a whole-page redirect."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = quote(request.htmx.current_url_abs_path or "/", safe="/")
            return HttpResponseClientRedirect(f"{reverse('login')}?next={back}")
        return redirect_to_login(request.get_full_path())

    return wrapper
