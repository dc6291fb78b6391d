"""A NUL character (U+0000) on every way in is refused and changes nothing.

PostgreSQL cannot store or compare text holding one, so each of these was a 500 there (SQLite
answered 200). Run them on PostgreSQL too: DATABASE_URL=postgres://... pytest tests/companion/test_nul_input.py
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from companion.content import ContentError, load_show
from companion.models import Party, Show, SpoilerReport, Watch
from connections.models import MediaServerEvent, MediaServerHook
from tests.factories import make_user
from tests.helpers import HTMX, REPO


def everything() -> list:
    """What any of these requests could have changed."""
    return [
        list(Watch.objects.order_by("pk").values_list("user_id", "episode_id")),
        list(Party.objects.values_list("name", flat=True)),
        list(SpoilerReport.objects.values_list("message", flat=True)),
        list(MediaServerEvent.objects.values_list("series_title", "outcome")),
        list(get_user_model().objects.order_by("pk").values_list("username", flat=True)),
        list(Show.objects.values_list("title", flat=True)),
    ]


# --- In the URL: the path is a 404 as any unknown URL, the query string a 400 ---------------------

URLS = [
    ("get", "/shows/saga/search/?q=Ada%00", 400),
    ("get", "/browse/?q=Sa%00ga", 400),
    ("get", "/shows/saga/?season=%00", 400),
    ("get", "/parties/join/not%00a-token/", 404),
    ("post", "/parties/join/not%00a-token/confirm/", 404),
    ("get", "/shows/saga/report/recap/ab%00cd/", 404),
    ("get", "/shows/sa%00ga/", 404),
]


@pytest.mark.parametrize("method, url, status", URLS)
def test_a_nul_in_the_url_is_refused_with_a_page(alice_client, method, url, status):
    before = everything()
    response = getattr(alice_client, method)(url)
    assert response.status_code == status
    assert b"nothing" in response.content  # the friendly page: "...so nothing was changed."
    assert everything() == before


def test_a_nul_in_the_search_box_over_htmx_is_a_message_fragment(alice_client):
    response = alice_client.get("/shows/saga/search/?q=Ada%00", **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#messages"


def test_a_nul_in_a_party_invite_token_is_not_found_for_a_visitor_too(client, show):
    assert client.get("/parties/join/not%00a-token/").status_code == 404


def test_a_nul_in_the_admins_search_is_refused(client, show):
    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    assert client.get("/admin/companion/show/?q=Sa%00ga").status_code == 400


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/v1/shows/saga/search/?q=Ada%00", 400),
        ("/api/v1/shows/?limit=1%00", 400),
        ("/api/v1/shows/sa%00ga/recaps/", 404),
        ("/api/v1/shows/saga/recaps/ab%00cd/", 404),
    ],
)
def test_a_nul_in_an_api_url_is_a_json_error(alice_token, show, url, status):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {alice_token}").get(url)
    assert response.status_code == status
    assert response.json()["detail"]


# --- In a form: Django's CharField refuses NUL ----------------------------------------------------


def test_a_nul_in_the_sign_up_form_is_a_form_error(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "new\x00comer",
            "email": "newcomer@example.com",
            "password1": "a-long-enough-pass-phrase",
            "password2": "a-long-enough-pass-phrase",
        },
    )
    assert response.status_code == 200 and b"Null characters are not allowed" in response.content
    assert not User.objects.filter(username__startswith="new").exists()


def test_a_nul_in_the_log_in_form_is_a_form_error(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice\x00", "password": "correct-horse-battery"}
    )
    assert response.status_code == 200 and b"Null characters are not allowed" in response.content


def test_a_nul_in_a_party_name_is_refused(alice_client):
    alice_client.post("/shows/saga/parties/new/", {"name": "Friday\x00crew"})
    assert not Party.objects.exists()


# --- In a webhook's JSON ----------------------------------------------------------------------------


def test_a_nul_in_a_webhooks_json_is_a_400_and_changes_nothing(client, alice, show):
    url = reverse(
        "media-hook", args=["emby", MediaServerHook.objects.issue(user=alice, server="emby")[1]]
    )
    data = json.loads((REPO / "tests/fixtures/media/emby/playback-stop-completed.json").read_text())
    data["Item"]["SeriesName"] = "Sa\x00ga"
    before = everything()
    response = client.post(url, json.dumps(data), content_type="application/json")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert everything() == before


def test_a_nul_in_a_plex_form_payload_is_a_400(client, alice, show):
    url = reverse(
        "media-hook", args=["plex", MediaServerHook.objects.issue(user=alice, server="plex")[1]]
    )
    data = json.loads((REPO / "tests/fixtures/media/plex/scrobble.json").read_text())
    data["Metadata"]["grandparentTitle"] = "Sa\x00ga"
    before = everything()
    response = client.post(url, {"payload": json.dumps(data)})
    assert response.status_code == 400
    assert everything() == before


# --- In an imported file ------------------------------------------------------------------------


def trakt_export(title: str, tvdb: object = 1) -> bytes:
    """Trakt's watched-shows export, one show with 1x04 watched."""
    return json.dumps(
        [
            {
                "show": {"title": title, "year": 2019, "ids": {"trakt": 1, "tvdb": tvdb}},
                "seasons": [
                    {
                        "number": 1,
                        "episodes": [
                            {"number": 4, "plays": 1, "last_watched_at": "2024-01-01T20:00:00.000Z"}
                        ],
                    }
                ],
            }
        ]
    ).encode()


def test_a_nul_in_a_trakt_export_is_a_form_error_and_imports_nothing(alice_client):
    before = everything()
    response = alice_client.post(
        "/history/", {"files": SimpleUploadedFile("watched-shows.json", trakt_export("Sa\x00ga"))}
    )
    assert response.status_code == 200 and b"NUL character" in response.content
    assert everything() == before


def test_a_nul_in_an_id_of_an_export_is_read_as_no_id(alice_client):
    response = alice_client.post(
        "/history/",
        {"files": SimpleUploadedFile("watched-shows.json", trakt_export("Saga", "74\x0064"))},
    )
    assert response.status_code == 200 and b'name="token"' in response.content


def test_a_nul_in_a_tv_time_export_is_a_form_error_and_imports_nothing(alice_client):
    csv = (
        '"user_id","episode_id","tv_show_id","tv_show_name","episode_season_number",'
        '"episode_number","created_at","updated_at"\n'
        '"1","7","9","Sa\x00ga","1","4","2020-01-05 21:00:00","2020-01-05 21:00:00"\n'
    )
    before = everything()
    response = alice_client.post(
        "/history/", {"files": SimpleUploadedFile("seen_episode.csv", csv.encode())}
    )
    assert response.status_code == 200 and b"NUL character" in response.content
    assert everything() == before


CONTENT = 'show:\n  title: "Sa\\0ga"\n  slug: saga-two\nseasons: []\n'


def test_a_nul_in_a_content_file_is_a_problem_and_imports_nothing(db):
    with pytest.raises(ContentError, match="line 2: holds a NUL character"):
        load_show(CONTENT)
    with pytest.raises(ContentError, match="holds a NUL character"):
        load_show('{"show": {"title": "Saga", "slug": "saga-two"}, "seasons": [{"\\u0000": 1}]}')
    assert not Show.objects.exists()


def test_a_nul_in_a_content_file_uploaded_in_the_admin_is_listed(client, db):
    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/companion/show/import/",
        {"file": SimpleUploadedFile("show.yaml", CONTENT.encode())},
    )
    assert response.status_code == 200 and b"holds a NUL character" in response.content
    assert not Show.objects.exists()


def test_a_nul_in_a_jellyfin_generic_form_is_a_400(client, alice, show):
    url = reverse(
        "media-hook",
        args=["jellyfin", MediaServerHook.objects.issue(user=alice, server="jellyfin")[1]],
    )
    body = (REPO / "tests/fixtures/media/jellyfin/generic-form-playback-stop.txt").read_text()
    assert "SeriesName=Saga" in body
    before = everything()
    response = client.post(
        url,
        body.replace("SeriesName=Saga", "SeriesName=Sa%00ga"),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert everything() == before
