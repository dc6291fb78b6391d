import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalogue import images, tvmaze
from catalogue.importer import import_show as import_only
from catalogue.tasks import download_images, import_show
from companion.models import Show
from tests.catalogue.conftest import load, tvmaze_jpeg
from tests.factories import episode

POSTER = "https://static.tvmaze.com/uploads/images/medium_portrait/81/202627.jpg"
PILOT_STILL = "https://static.tvmaze.com/uploads/images/original_untouched/1/4388.jpg"


def opened(name: str) -> Image.Image:
    with default_storage.open(name) as file:
        picture = Image.open(io.BytesIO(file.read()))
        picture.load()
    return picture


@pytest.mark.django_db
def test_an_import_stores_a_poster_a_still_per_episode_and_actors_photos():
    import_show.enqueue(1)
    show = Show.objects.get(tvmaze_id=1)
    assert show.poster_source == POSTER
    assert opened(show.poster).size == images.POSTER
    pilot = episode(show, "1x1")
    assert pilot.still_source == PILOT_STILL
    assert opened(pilot.still).size == images.STILL
    barbie = show.characters.get(name='Dale "Barbie" Barbara')
    assert opened(barbie.photo).size == images.PHOTO
    assert opened(show.stand_in).size == images.STAND_IN
    assert not show.episodes.filter(still="").exists()


@pytest.mark.django_db
def test_an_episode_without_an_image_at_tvmaze_has_no_still():
    import_show.enqueue(5)
    show = Show.objects.get(tvmaze_id=5)
    special = episode(show, "0x1")
    assert (special.still_source, special.still) == ("", "")
    assert episode(show, "1x1").still


@pytest.mark.django_db
def test_images_are_named_by_a_keyed_hash_of_their_bytes_and_stored_once():
    import_show.enqueue(1)
    show = Show.objects.get(tvmaze_id=1)
    pilot = episode(show, "1x1")
    with default_storage.open(pilot.still) as file:
        data = file.read()
    assert pilot.still == images.name_for(data)
    # Not the plain hash of the file, nor of TVmaze's: whoever has the image cannot work it out.
    for known in (data, tvmaze_jpeg("/uploads/images/original_untouched/1/4388.jpg")):
        assert hashlib.sha256(known).hexdigest()[:40] not in pilot.still
    # The same bytes again: the same name, no second file.
    assert images.store(data) == pilot.still


@pytest.mark.django_db
def test_stored_images_carry_no_metadata_and_are_progressive_jpegs():
    import_show.enqueue(1)
    still = opened(episode(Show.objects.get(tvmaze_id=1), "1x1").still)
    assert still.format == "JPEG"
    assert still.info.get("progressive") or still.info.get("progression")
    assert "exif" not in still.info


@pytest.mark.django_db
def test_the_stand_in_shows_nothing_of_the_art_it_was_made_from():
    # Sharp detail (a checkerboard) is gone from the stand-in: only a soft blur of colour is left.
    board = Image.new("RGB", (1920, 1080), "white")
    for x in range(0, 1920, 40):
        for y in range(0, 1080, 40):
            if (x + y) // 40 % 2:
                board.paste((0, 0, 0), (x, y, x + 40, y + 40))
    out = io.BytesIO()
    board.save(out, "JPEG")
    stand_in = Image.open(io.BytesIO(images.blurred(out.getvalue()))).convert("L")
    low, high = stand_in.getextrema()
    assert high - low < 40


@pytest.mark.django_db
def test_a_refresh_downloads_only_what_changed(recorded):
    import_show.enqueue(1)
    show = Show.objects.get(tvmaze_id=1)
    old_still = episode(show, "1x2").still
    before = len(recorded.requests)
    import_show.enqueue(1)
    assert not [r for r in recorded.requests[before:] if r.url.host == "static.tvmaze.com"]

    # TVmaze now has another still for 1x2: the refresh makes it anew under a new name.
    episodes = [dict(item) for item in load("shows-1-episodes.json")]
    new_url = "https://static.tvmaze.com/uploads/images/original_untouched/9/9999.jpg"
    episodes[1]["image"] = {"medium": new_url, "original": new_url}
    recorded.extra["/shows/1/episodes"] = episodes
    before = len(recorded.requests)
    import_show.enqueue(1)
    fetched = [r.url.path for r in recorded.requests[before:] if r.url.host == "static.tvmaze.com"]
    assert fetched == ["/uploads/images/original_untouched/9/9999.jpg"]
    refreshed = episode(show, "1x2")
    assert refreshed.still_source == new_url
    assert refreshed.still and refreshed.still != old_still


@pytest.mark.django_db
def test_an_image_tvmaze_no_longer_has_is_skipped_and_the_rest_stored(recorded):
    recorded.extra["/uploads/images/original_untouched/1/4388.jpg"] = 404
    recorded.extra["/uploads/images/original_untouched/1/4389.jpg"] = b"not an image at all"
    import_show.enqueue(1)
    show = Show.objects.get(tvmaze_id=1)
    assert episode(show, "1x1").still == ""
    assert episode(show, "1x2").still == ""
    assert episode(show, "1x3").still
    # The next run tries the missing ones again.
    assert [w.field for w in images.wanted(show)] == ["still", "still"]


@pytest.mark.django_db
def test_images_come_only_from_tvmazes_image_host(recorded):
    show = import_only(1).show
    show.episodes.filter(season_number=1, number=1).update(
        still_source="http://169.254.169.254/latest/meta-data/"
    )
    download_images.enqueue(show.pk)
    assert not [r for r in recorded.requests if r.url.host == "169.254.169.254"]
    assert episode(show, "1x1").still == ""


@pytest.mark.django_db
def test_images_wait_for_the_rate_limit_like_every_call(recorded, monkeypatch):
    waits: list[float] = []
    clock = iter(range(0, 10_000)).__next__
    monkeypatch.setattr(
        tvmaze, "RATE_LIMIT", tvmaze.RateLimit(clock=lambda: clock() * 0.01, sleep=waits.append)
    )
    show = import_only(1).show
    download_images.enqueue(show.pk)
    # Well over 20 images in a fraction of a second of the fake clock: the limit made it wait.
    assert waits


@pytest.mark.django_db
def test_the_pages_of_a_show_are_new_once_its_images_arrive():
    show = import_only(1).show
    version = Show.objects.get(pk=show.pk).content_version
    download_images.enqueue(show.pk)
    assert Show.objects.get(pk=show.pk).content_version > version
