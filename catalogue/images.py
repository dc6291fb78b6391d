"""TVmaze's artwork made small and stored: posters, stills, actors' photos, and each show's blurred
stand-in for the stills a viewer may not see.

Runs only in the image job (catalogue.tasks.download_images), through the TVmaze client, so every
download has its timeouts, retries and rate limit. Each image is cropped to one size, saved as a
JPEG with no metadata and named by a hash of its bytes keyed with the secret key: the same image is
stored once, a changed one gets a new name (so every name may be cached forever), and no one can
work a name out from the image or the episode without being shown it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils.crypto import salted_hmac
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from companion.models import Character, Episode, Show

from .tvmaze import Client, TVmazeNotFound

log = logging.getLogger(__name__)

# Twice the size each is shown at (templates/companion/_poster.html and its neighbours), for
# screens with two pixels to a point.
POSTER = (200, 300)
STILL = (640, 360)
PHOTO = (160, 160)
# Blurred past recognition from a tiny copy: it tells nothing of any episode, so it is shown
# alike for a hidden still and a missing one.
STAND_IN = (320, 180)
STAND_IN_GRAIN = (24, 14)
# TVmaze serves its images from this host alone; nothing else is downloaded.
IMAGE_HOST = "static.tvmaze.com"
# A decompression bomb is refused before it is decoded.
MAX_PIXELS = 40_000_000
QUALITY = 78


class UnusableImage(Exception):
    """What TVmaze sent is not an image Pillow can read, or is too big to open."""


def made(data: bytes, size: tuple[int, int], *, centering=(0.5, 0.5)) -> bytes:
    """The image cropped to fill `size` exactly, as a progressive JPEG with no metadata."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > MAX_PIXELS:
                raise UnusableImage(f"{source.width}x{source.height} is too big")
            # A JPEG decodes straight to a smaller scale (1/2, 1/4, 1/8) no smaller than the size
            # wanted: a 1920x1080 still decodes at 960x540, in about a third of the time.
            source.draft("RGB", size)
            picture = ImageOps.exif_transpose(source).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise UnusableImage(str(error)) from error
    picture = ImageOps.fit(picture, size, Image.Resampling.LANCZOS, centering=centering)
    return jpeg(picture)


def blurred(data: bytes) -> bytes:
    """A stand-in: the image shrunk to a few dozen pixels, then blown up and blurred."""
    tiny = Image.open(io.BytesIO(made(data, STAND_IN_GRAIN)))
    picture = tiny.resize(STAND_IN, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(8))
    return jpeg(picture)


def jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def name_for(data: bytes) -> str:
    digest = salted_hmac("spoilerfree.images", data, algorithm="sha256").hexdigest()
    return f"images/{digest[:40]}.jpg"


def store(data: bytes) -> str:
    """Save the bytes under their keyed hash (once) and return the name."""
    name = name_for(data)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name


@dataclass
class Wanted:
    """One image to make: which row, which field holds the name, from which URL, how."""

    model: type[models.Model]
    pk: int
    field: str
    source: str
    size: tuple[int, int] | None
    centering: tuple[float, float] = (0.5, 0.5)

    def make(self, data: bytes) -> bytes:
        return (
            blurred(data) if self.size is None else made(data, self.size, centering=self.centering)
        )


@dataclass
class ImagesReport:
    show: Show
    stored: int
    missing: int

    def __str__(self) -> str:
        return f"{self.show.title}: {self.stored} images stored, {self.missing} not to be had"


def wanted(show: Show) -> list[Wanted]:
    """Every image of the show with a source and no file yet: new ones and changed ones."""
    found = []
    if show.poster_source and not show.poster:
        found.append(Wanted(Show, show.pk, "poster", show.poster_source, POSTER))
    if show.stand_in_source and not show.stand_in:
        found.append(Wanted(Show, show.pk, "stand_in", show.stand_in_source, None))
    for pk, source in (
        show.episodes.filter(still="").exclude(still_source="").values_list("pk", "still_source")
    ):
        found.append(Wanted(Episode, pk, "still", source, STILL))
    for pk, source in (
        show.characters.filter(photo="").exclude(photo_source="").values_list("pk", "photo_source")
    ):
        # Faces sit in the upper part of a portrait.
        found.append(Wanted(Character, pk, "photo", source, PHOTO, centering=(0.5, 0.3)))
    return found


def download_images(show: Show, *, client: Client | None = None) -> ImagesReport:
    """Download, make and store each image the show still wants; one that TVmaze no longer has,
    or that is no image, is skipped until a refresh brings another. TVmaze being unreachable
    stops the job with its error (shown in the admin); what was stored stays."""
    stored = missing = 0
    try:
        with client or Client() as tvmaze:
            for item in wanted(show):
                if urlsplit(item.source).hostname != IMAGE_HOST:
                    log.warning("Not downloading %s: not TVmaze's image host", item.source)
                    missing += 1
                    continue
                try:
                    name = store(item.make(tvmaze.download(item.source)))
                except (TVmazeNotFound, UnusableImage) as error:
                    log.warning("No image from %s: %s", item.source, error)
                    missing += 1
                    continue
                # Only if the source is still the one downloaded: a refresh may have changed it.
                source_field = f"{item.field}_source"
                item.model._default_manager.filter(
                    pk=item.pk, **{source_field: item.source}
                ).update(**{item.field: name})
                stored += 1
    finally:
        if stored:
            # Pages of the show are cached on its content version: they show the new images.
            show.content_changed()
    return ImagesReport(show, stored, missing)
