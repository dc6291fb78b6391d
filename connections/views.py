"""Account → Connections, and the webhook URLs Jellyfin, Plex and Emby post to.

The webhook view answers every delivery quickly with a short JSON body: 404 for an unknown URL,
400 for a body no server would send, 200 with what happened otherwise, even when nothing did.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from companion.http import AuthenticatedHttpRequest
from config.middleware import ERROR_MESSAGES

from .forms import ServerForm
from .models import EVENTS_KEPT, MediaServer, MediaServerEvent, MediaServerHook
from .payloads import JELLYFIN_TEMPLATE, READERS, BadPayload

MAX_BODY = 1024 * 1024


def _answer(code: int, **body: str) -> JsonResponse:
    return JsonResponse(body, status=code)


# Plex always posts a multipart form with the event in `payload` (and sometimes a thumbnail
# beside it); Emby posts JSON, or a form with the event in `data` if so set up.
FORM_FIELDS: dict[str, str] = {MediaServer.PLEX: "payload", MediaServer.EMBY: "data"}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _decode(server: str, request: HttpRequest, body: bytes) -> tuple[dict, str]:
    """The server's JSON object, and a digest of it to recognise a delivery sent again."""
    if server == MediaServer.JELLYFIN and request.content_type in FORM_TYPES:
        return _jellyfin_form(request)
    field = FORM_FIELDS.get(server, "")
    if server == MediaServer.PLEX or (field and request.content_type in FORM_TYPES):
        try:
            text = request.POST.get(field) if request.content_type in FORM_TYPES else None
        except (ValueError, RequestDataTooBig):  # a broken multipart body
            text = None
        if text is None:
            raise BadPayload(f"Expected a form with the event as JSON in its '{field}' field.")
        # The multipart boundary differs between deliveries, so the digest is of the event alone.
        raw = text.encode()
    else:
        raw = body
    data = _loads(server, raw)
    if not isinstance(data, dict):
        raise BadPayload("The body is JSON but not an object.")
    return data, hashlib.sha256(raw).hexdigest()


def _loads(server: str, raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        pass
    # A Jellyfin template with `{{SeriesName}}` turns the `\"` the plugin makes of a quote into
    # `\&quot;`, never valid JSON; without the backslash it is the escaped quote the reader undoes.
    if server == MediaServer.JELLYFIN and b"\\&" in raw:
        try:
            return json.loads(raw.replace(b"\\&", b"&"))
        except (ValueError, RecursionError):
            pass
    raise BadPayload("The body is not JSON.")


def _jellyfin_form(request: HttpRequest) -> tuple[dict, str]:
    """The Webhook plugin's "Generic Form": the template's fields, every value a string."""
    try:
        fields = dict(request.POST.items())
    except (ValueError, RequestDataTooBig):  # a broken multipart body
        raise BadPayload("The form could not be read.") from None
    # A template object (`"Item": {…}`) arrives as its JSON text.
    data = {key: _object_or_text(value) for key, value in fields.items()}
    canonical = json.dumps(fields, sort_keys=True).encode()
    return data, hashlib.sha256(canonical).hexdigest()


def _object_or_text(value: object) -> object:
    if isinstance(value, str) and value.startswith("{"):
        try:
            found = json.loads(value)
        except (ValueError, RecursionError):
            return value
        if isinstance(found, dict):
            return found
    return value


def _holds_nul(data: dict) -> bool:
    # Without recursion: json.loads takes nesting deeper than a recursive walk could.
    pending: list[object] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


@csrf_exempt  # the secret in the URL is the credential; a media server has no CSRF token
@require_POST
def receive(request: HttpRequest, server: str, secret: str) -> HttpResponse:
    """One delivery from a media server: mark the finished episode, or say why nothing changed."""
    hook = MediaServerHook.objects.find(server=server, raw=secret)
    if hook is None:
        return _answer(404, detail=ERROR_MESSAGES[404])
    try:
        too_big = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY
    except ValueError:
        too_big = True
    if too_big:
        return _answer(400, detail="The body is larger than 1 MB.")
    try:
        body = request.body
    except RequestDataTooBig:
        return _answer(400, detail="The body is larger than 1 MB.")
    if len(body) > MAX_BODY:
        return _answer(400, detail="The body is larger than 1 MB.")
    try:
        data, digest = _decode(server, request, body)
    except BadPayload as error:
        return _answer(400, detail=str(error))
    if _holds_nul(data):
        # PostgreSQL cannot store or compare text holding NUL; no media server sends one.
        return _answer(400, detail="The body holds a NUL character (\\u0000).")
    event = MediaServerEvent.objects.record(hook=hook, reading=READERS[server](data), digest=digest)
    if event is None:
        return _answer(200, status="duplicate", detail="Received already; nothing changed.")
    return _answer(200, status=event.outcome, detail=event.summary)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def connections(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each server's webhook URL (new ones shown once) and the last events received."""
    form = ServerForm(request.POST or None)
    new_urls: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        server = form.cleaned_data["server"]
        _, raw = MediaServerHook.objects.issue(user=request.user, server=server)
        new_urls[server] = request.build_absolute_uri(reverse("media-hook", args=[server, raw]))
    hooks = {hook.server: hook for hook in request.user.media_server_hooks.all()}
    servers = [
        {"value": value, "label": label, "hook": hooks.get(value), "new_url": new_urls.get(value)}
        for value, label in MediaServer.choices
    ]
    context = {
        "form": form,
        "servers": servers,
        # Marks apart from the deliveries that changed nothing, so no flood of those hides one.
        "received": request.user.media_server_events.received().select_related("show")[
            :EVENTS_KEPT
        ],
        "ignored": request.user.media_server_events.ignored()[:EVENTS_KEPT],
        "jellyfin_template": JELLYFIN_TEMPLATE,
    }
    return render(request, "connections/connections.html", context)


@require_POST
@login_required
def revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ServerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which server's URL to revoke.")
    elif request.user.media_server_hooks.filter(server=form.cleaned_data["server"]).delete()[0]:
        label = MediaServer(form.cleaned_data["server"]).label
        messages.success(request, f"Revoked the {label} URL. Deliveries to it now get a 404.")
    return redirect("connections")
