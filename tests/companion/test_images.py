"""Posters, stills and photos on the pages and in the API: a still only where its episode is revealed."""

import re

import pytest
from django.core.files.storage import default_storage

from companion.models import Show
from tests.factories import give_images, make_show, make_user, watch
from tests.helpers import mask_csrf

API = "/api/v1"


@pytest.fixture
def art(show):
    """The saga with its art, and a still for 1x02 (alice has watched it) and 2x01 (she has not)."""
    return give_images(show, stills=("1x02", "2x01"))


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


@pytest.mark.django_db
def test_posters_show_on_browse_home_and_the_show_page(alice_client, art):
    show = Show.objects.get(slug="saga")
    for url in ("/browse/", "/", "/shows/saga/"):
        tags = [t for t in img_tags(alice_client.get(url).text) if show.poster in t]
        assert len(tags) == 1, url
        assert 'width="200" height="300"' in tags[0] and 'alt="Saga poster"' in tags[0]
    # Lazy in lists; the show page's own poster is its main image and loads at once.
    assert 'loading="lazy"' in img_tags(alice_client.get("/browse/").text)[0]
    assert 'loading="lazy"' not in img_tags(alice_client.get("/shows/saga/").text)[0]
    # The show page is shared between viewers who read it the same; its OG image is absolute.
    poster = default_storage.url(show.poster)
    assert f'<meta property="og:image" content="http://testserver{poster}">' in (
        alice_client.get("/shows/saga/").text
    )


@pytest.mark.django_db
def test_whos_who_shows_the_actors_photos_of_characters_met(alice_client, art, show):
    ada = show.characters.get(name="Ada")
    zed = show.characters.get(name="Zed Quist")
    body = alice_client.get("/shows/saga/cast/").text
    assert ada.photo in body
    assert zed.photo not in body  # first appears in 1x04, past alice's point


@pytest.mark.django_db
def test_a_revealed_episode_shows_its_still_and_makes_it_the_og_image(alice_client, art):
    body = alice_client.get("/shows/saga/s1/e2/").text
    still = default_storage.url(art["1x02"])
    assert f'<img class="still" src="{still}" width="640" height="360"' in body
    assert 'alt="A still from S1E2"' in body
    assert f'<meta property="og:image" content="http://testserver{still}">' in body


@pytest.mark.django_db
def test_a_hidden_still_is_nowhere_and_its_page_reads_as_one_without_a_still(alice_client, art):
    show = Show.objects.get(slug="saga")
    hidden = art["2x01"]
    with_still = alice_client.get("/shows/saga/s2/e1/").text
    api = alice_client.get(f"{API}/shows/saga/episodes/").text
    detail = alice_client.get(f"{API}/shows/saga/episodes/2/1/").text
    for served in (with_still, api, detail):
        assert hidden.split("/")[1].split(".")[0] not in served
    # In its place, the show's blurred stand-in, as for any episode with no still at all.
    assert f'<img class="still stand-in" src="{show.stand_in_url}"' in with_still
    assert f'content="http://testserver{show.poster_url}"' in with_still

    show.episodes.filter(season_number=2, number=1).update(still="")
    show.content_changed()
    without = alice_client.get("/shows/saga/s2/e1/").text
    assert mask_csrf(without) == mask_csrf(with_still)


@pytest.mark.django_db
def test_the_preference_leaves_out_the_stand_in_too(alice_client, alice, art):
    response = alice_client.post(
        "/accounts/preferences/",
        {"hide_unwatched_synopses": "on", "hide_unwatched_images": "on"},
    )
    assert response.status_code in (200, 302)
    alice.refresh_from_db()
    assert alice.hide_unwatched_images
    hidden = alice_client.get("/shows/saga/s2/e1/").text
    assert not [t for t in img_tags(hidden) if "still" in t]
    # A watched episode's still is still shown.
    assert art["1x02"] in alice_client.get("/shows/saga/s1/e2/").text


@pytest.mark.django_db
def test_the_api_gives_image_urls_for_revealed_episodes_only(alice_api, art):
    shows = alice_api.get(f"{API}/shows/saga/").json()
    assert shows["poster"].startswith("http://testserver/media/images/")
    episodes = {e["code"]: e for e in alice_api.get(f"{API}/shows/saga/episodes/").json()["items"]}
    assert episodes["1x2"]["still"] == f"http://testserver{default_storage.url(art['1x02'])}"
    assert episodes["2x1"]["still"] is None
    assert episodes["1x1"]["still"] is None


@pytest.mark.django_db
def test_a_show_without_images_has_no_image_tags_at_all(client):
    make_show("plain")
    viewer = make_user("viewer")
    watch(viewer, Show.objects.get(slug="plain"), "1x01")
    client.force_login(viewer)
    for url in ("/browse/", "/", "/shows/plain/", "/shows/plain/s1/e1/", "/shows/plain/s1/e2/"):
        body = client.get(url).text
        assert not img_tags(body), url
        assert "og:image" not in body


@pytest.mark.django_db
def test_a_stored_image_is_served_to_be_cached_forever(client, art):
    url = default_storage.url(art["1x02"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert client.head(url).status_code == 200


@pytest.mark.django_db
def test_a_name_never_stored_answers_as_any_missing_page(client, art):
    guessed = client.get("/media/images/" + "0" * 40 + ".jpg")
    odd = client.get("/media/../config/settings.py")
    missing = client.get("/no-such-page/")
    assert guessed.status_code == odd.status_code == missing.status_code == 404
    assert mask_csrf(guessed.text) == mask_csrf(missing.text)
