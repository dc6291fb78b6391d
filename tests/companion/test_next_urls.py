"""Where a `next` may send the viewer: a path on this site, or nowhere (the route's own page)."""

import pytest
from django.contrib.auth import get_user_model

from companion.http import local_path
from companion.models import Follow, Watch
from tests.factories import make_user, watch

# Each a URL name, a relative path, another site, or a path a browser reads as another site.
BAD = [
    "abc",
    "logout",
    "show-list",
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "http://testserver/shows/saga/",
]
GOOD = "/shows/saga/s1/e2/?season=1#episode-2"


@pytest.mark.parametrize("value", BAD + ["", None, "javascript:alert(1)"])
def test_only_a_local_absolute_path_is_a_next(value):
    assert local_path(value) is None


def test_a_local_path_with_its_query_and_fragment_is_a_next():
    assert local_path(GOOD) == GOOD


# route, form fields, where it lands without a usable next, and what it saved.
ROUTES = {
    "mark": ("/shows/saga/s1/e4/watch/", {}, "/shows/saga/"),
    "up to here": ("/shows/saga/s2/e1/watch-up-to/", {}, "/shows/saga/"),
    "season mark": ("/shows/saga/seasons/2/watch/", {}, "/shows/saga/#season-2"),
    "follow": ("/shows/saga/follow/", {"action": "follow"}, "/shows/saga/"),
    "rewatch": ("/shows/saga/as-of/", {"episode": "1x2"}, "/shows/saga/"),
}


def saved(name: str, user, client) -> bool:
    codes = set(
        Watch.objects.filter(user=user).values_list("episode__number", "episode__season_number")
    )
    return {
        "mark": (4, 1) in codes,
        "up to here": (1, 2) in codes,
        "season mark": (5, 2) in codes,
        "follow": Follow.objects.filter(user=user, show__slug="saga").exists(),
        "rewatch": bool(client.session.get("as_of")),
    }[name]


@pytest.mark.parametrize("name", ROUTES)
@pytest.mark.parametrize("value", BAD)
def test_a_bad_next_saves_the_change_and_goes_to_the_routes_own_page(
    alice_client, alice, name, value
):
    url, data, fallback = ROUTES[name]
    response = alice_client.post(url, {**data, "next": value})
    assert response.status_code == 302
    assert response["Location"] == fallback
    assert saved(name, alice, alice_client)


@pytest.mark.parametrize("name", ROUTES)
def test_a_good_next_comes_back_to_it(alice_client, alice, name):
    url, data, _ = ROUTES[name]
    response = alice_client.post(url, {**data, "next": GOOD})
    assert response.status_code == 302 and response["Location"] == GOOD
    assert saved(name, alice, alice_client)


SIGNUP = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "password1": "a-long-enough-pass-phrase",
    "password2": "a-long-enough-pass-phrase",
}


@pytest.mark.parametrize("value", BAD)
def test_a_crafted_signup_link_makes_the_account_signs_in_and_goes_to_browse(client, show, value):
    response = client.post("/accounts/signup/?next=x", {**SIGNUP, "next": value})
    assert response.status_code == 302 and response["Location"] == "/browse/"
    assert get_user_model().objects.filter(username="newcomer").exists()
    assert client.get("/accounts/preferences/").status_code == 200  # signed in


def test_signup_comes_back_to_a_good_next(client, show):
    response = client.post("/accounts/signup/", {**SIGNUP, "next": GOOD})
    assert response["Location"] == GOOD


@pytest.mark.parametrize("value", BAD)
def test_the_signup_page_does_not_carry_a_bad_next_on(client, value):
    page = client.get("/accounts/signup/", {"next": value}).content.decode()
    assert 'name="next"' not in page and "login/?next" not in page


@pytest.mark.parametrize("value", BAD)
def test_the_up_to_here_confirmation_offers_only_a_local_way_back(alice_client, value):
    page = alice_client.get("/shows/saga/s2/e1/watch-up-to/confirm/", {"next": value})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="next" value="/shows/saga/"' in body and 'href="/shows/saga/"' in body
    assert "evil.example" not in body


@pytest.mark.parametrize("value", BAD)
def test_logging_in_with_a_bad_next_goes_home(client, db, value):
    make_user("carol")
    response = client.post(
        "/accounts/login/",
        {"username": "carol", "password": "correct-horse-battery", "next": value},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_logging_in_comes_back_to_a_good_next(client, show):
    watch(make_user("carol"), show, "1x01")
    response = client.post(
        "/accounts/login/",
        {"username": "carol", "password": "correct-horse-battery", "next": GOOD},
    )
    assert response["Location"] == GOOD
