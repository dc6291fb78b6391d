"""The stored images, served by the site itself while storage is the local MEDIA_ROOT.

A name is a keyed hash of the image's bytes (catalogue/images.py), handed out only where the
spoiler rule lets the image be seen: it cannot be guessed, so it needs no rule of its own here,
and a name never stored answers exactly like a hidden one would if guessed, 404. Because a
changed image gets a new name, each one is cached forever, by browsers and any cache between.
"""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

IMAGE_NAME = re.compile(r"images/[0-9a-f]{40}\.jpg", re.ASCII)
FOREVER = 60 * 60 * 24 * 365


@require_safe
def image(request: HttpRequest, name: str) -> FileResponse:
    if not IMAGE_NAME.fullmatch(name) or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name), content_type="image/jpeg")
    response["Cache-Control"] = f"public, max-age={FOREVER}, immutable"
    response.same_for_everyone = True  # type: ignore[attr-defined]
    return response
