"""A URL without its trailing slash: a 308 to the one with it, which clients follow with the same method."""

import requests

from companion.models import Watch

API = "/api/v1"


def test_an_api_post_without_the_slash_still_marks_the_episode(
    live_server, alice, alice_token, show
):
    # A real client against the running server: requests follows a 301 to a POST's URL with a
    # GET (the mark is lost), a 308 with the same POST.
    response = requests.post(
        f"{live_server.url}{API}/shows/saga/episodes/1/4/watched",
        headers={"Authorization": f"Bearer {alice_token}"},
        timeout=10,
    )
    assert [r.status_code for r in response.history] == [308]
    assert response.request.method == "POST"
    assert response.status_code == 200 and response.json()["safe_point"] == "1x4"
    assert Watch.objects.filter(user=alice, episode__season_number=1, episode__number=4).exists()


def test_an_api_delete_without_the_slash_still_unmarks_the_episode(
    live_server, alice, alice_token, show
):
    response = requests.delete(
        f"{live_server.url}{API}/shows/saga/episodes/1/3/watched",
        headers={"Authorization": f"Bearer {alice_token}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["safe_point"] == "1x2"


def test_a_form_post_without_the_slash_is_sent_on_with_its_method(alice_client, alice):
    response = alice_client.post("/shows/saga/s1/e4/watch", {"next": "/shows/saga/"})
    assert response.status_code == 308 and response["Location"] == "/shows/saga/s1/e4/watch/"
    followed = alice_client.post("/shows/saga/s1/e4/watch", {"next": "/shows/saga/"}, follow=True)
    assert followed.redirect_chain[0] == ("/shows/saga/s1/e4/watch/", 308)
    assert Watch.objects.filter(user=alice, episode__season_number=1, episode__number=4).exists()


def test_a_get_without_the_slash_is_redirected_too(client, show):
    response = client.get("/shows/saga?season=2")
    assert response.status_code == 308 and response["Location"] == "/shows/saga/?season=2"
