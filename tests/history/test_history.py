"""Watch history import (preview, then confirm) and export, in Trakt JSON and TV Time CSV."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from companion.models import Watch
from history import matching, parsers
from tests.factories import episode, make_show, make_user, watch

CSV_HEADER = "tv_show_name,episode_season_number,episode_number,updated_at\n"


def trakt(*shows) -> str:
    """Trakt's watched-shows export for (title, season, [episode numbers]) triples."""
    return json.dumps(
        [
            {
                "show": {"title": title, "year": 2019, "ids": {"trakt": 1}},
                "seasons": [
                    {
                        "number": season,
                        "episodes": [
                            {
                                "number": n,
                                "plays": 1,
                                "last_watched_at": f"2024-01-{n:02d}T20:00:00.000Z",
                            }
                            for n in numbers
                        ],
                    }
                ],
            }
            for title, season, numbers in shows
        ]
    )


def upload(client, content, *, name="history.json"):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/history/", {"files": SimpleUploadedFile(name, data)})


def token_in(response) -> str:
    found = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert found is not None, "no import token on the page"
    return found[1]


def watched(user) -> list[int]:
    # Episodes as season * 1000 + number, so failures read as codes.
    return sorted(
        season * 1000 + number
        for season, number in Watch.objects.filter(user=user).values_list(
            "episode__season_number", "episode__number"
        )
    )


def watched_at(user, show, code) -> datetime:
    return Watch.objects.get(user=user, episode=episode(show, code)).watched_at


# --- Import: preview, then confirm ---------------------------------------------------------------


def test_trakt_import_previews_without_writing_then_confirm_marks_with_the_files_dates(
    alice_client, alice, show
):
    before = Watch.objects.count()
    response = upload(alice_client, trakt(("Saga", 1, [1, 2, 3, 4, 5])))
    page = response.content.decode()
    assert "Check the import" in page
    assert "To mark watched: S1E4–E5" in page and "Already watched: S1E1–E3" in page
    assert Watch.objects.count() == before

    response = alice_client.post("/history/confirm/", {"token": token_in(response)}, follow=True)
    assert "2 episodes marked watched" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003, 1004, 1005]
    assert watched_at(alice, show, "1x5") == datetime(2024, 1, 5, 20, tzinfo=UTC)


def test_confirming_an_import_follows_its_shows(client, outsider, show):
    from companion.models import Follow

    client.force_login(outsider)
    response = upload(client, trakt(("Saga", 1, [1, 2])))
    assert not Follow.objects.filter(user=outsider).exists()
    client.post(reverse("history-confirm"), {"token": token_in(response)})
    assert list(Follow.objects.filter(user=outsider).values_list("show__slug", flat=True)) == [
        "saga"
    ]


def test_confirm_leaves_already_watched_dates_alone(alice_client, alice, show):
    first_seen = watched_at(alice, show, "1x1")
    response = upload(alice_client, trakt(("Saga", 1, [1, 4])))
    alice_client.post("/history/confirm/", {"token": token_in(response)})
    assert watched_at(alice, show, "1x1") == first_seen


def test_tvtime_csv_with_bom_any_column_order_and_extra_columns(client, outsider, show):
    client.force_login(outsider)
    text = (
        "episode_number,tv_show_name,extra,episode_season_number,updated_at\r\n"
        "1,Saga,x,2,2024-03-01 21:15:00\r\n"
        "\r\n"
        '2,"Saga",y,2,\r\n'
    )
    response = upload(client, "\ufeff".encode() + text.encode(), name="seen_episode.csv")
    assert "To mark watched: S2E1–E2" in response.content.decode()
    client.post("/history/confirm/", {"token": token_in(response)})
    assert watched(outsider) == [2001, 2002]
    # A date without a zone is UTC; a blank one is the time of the import.
    assert watched_at(outsider, show, "2x1") == datetime(2024, 3, 1, 21, 15, tzinfo=UTC)
    assert timezone.now() - watched_at(outsider, show, "2x2") < timedelta(minutes=1)


def test_trakt_history_export_shape_is_accepted_and_movies_are_reported(client, outsider, show):
    client.force_login(outsider)
    entries = [
        {
            "id": 1,
            "watched_at": "2024-02-01T20:00:00.000Z",
            "type": "episode",
            "episode": {"season": 1, "number": 2, "title": "whatever"},
            "show": {"title": "Saga"},
        },
        {
            "id": 2,
            "watched_at": "2024-02-03T20:00:00.000Z",
            "type": "episode",
            "episode": {"season": 1, "number": 2},
            "show": {"title": "Saga"},
        },
        {
            "id": 3,
            "watched_at": "2024-02-02T20:00:00.000Z",
            "type": "movie",
            "movie": {"title": "Some Film"},
        },
    ]
    response = upload(client, json.dumps(entries))
    page = response.content.decode()
    assert "To mark watched: S1E2" in page
    assert "Movies: 1 entry, a movie, not a TV episode" in page
    assert "history.json [2]: Some Film" in page
    client.post("/history/confirm/", {"token": token_in(response)})
    # Watched twice: the first viewing counts.
    assert watched_at(outsider, show, "1x2") == datetime(2024, 2, 1, 20, tzinfo=UTC)


def test_unmatched_rows_are_reported_with_their_line_and_why(client, outsider, show):
    client.force_login(outsider)
    text = CSV_HEADER + "Saga,1,1,\nNo Such Show,1,1,\nSaga,3,1,\nSaga,1,1005,\n"
    page = upload(client, text, name="h.csv").content.decode()
    assert "No Such Show: 1 episode, no such show here" in page
    assert "h.csv line 3: S1E1" in page
    assert "Saga: 2 episodes, no such episode here" in page
    assert "h.csv line 4: S3E1" in page
    # 1x1005 must not alias 2x5 through the sequence arithmetic.
    assert "h.csv line 5: S1E1005" in page
    assert "To mark watched: S1E1<" in page


def test_titles_match_ignoring_case_and_spacing(client, outsider, show):
    make_show("two-words", seasons=1, episodes=2, title="Two  Words")
    client.force_login(outsider)
    page = upload(client, trakt(("  SAGA ", 1, [1]), ("two words", 1, [2]))).content.decode()
    assert "S1E1" in page and "Two  Words" in page and "S1E2" in page
    assert "Not matched" not in page


def test_a_title_shared_by_two_shows_is_reported_not_guessed(client, outsider, show):
    make_show("saga-2004", seasons=1, episodes=2, title="Saga")
    client.force_login(outsider)
    page = upload(client, trakt(("Saga", 1, [1]))).content.decode()
    assert "more than one show here has this title" in page
    assert 'name="token"' not in page


def test_specials_import_when_the_episode_exists(client, outsider, db):
    make_show("extras", seasons=1, episodes=2, specials=1)
    client.force_login(outsider)
    response = upload(
        client, CSV_HEADER + "Extras,0,1,2024-01-01\nExtras,0,2,2024-01-01\n", name="h.csv"
    )
    page = response.content.decode()
    assert (
        "To mark watched: S0E1" in page
        and "Extras: 1 episode, no such episode here" in page
        and "h.csv line 3: S0E2" in page
    )
    client.post("/history/confirm/", {"token": token_in(response)})
    assert watched(outsider) == [1]


def test_nothing_new_offers_no_confirm_button(alice_client, alice, show):
    page = upload(alice_client, trakt(("Saga", 1, [1, 2]))).content.decode()
    assert "nothing new to mark" in page and 'name="token"' not in page


def test_preview_page_shows_codes_but_no_episode_titles(alice_client, show):
    page = upload(
        alice_client, trakt(("Saga", 1, [1, 2, 3, 4, 5]), ("Saga", 2, [1, 2]))
    ).content.decode()
    assert "S2E1–E2" in page
    assert "TITLE-saga" not in page and "SYNOPSIS" not in page and "RECAP" not in page


def test_preview_takes_a_fixed_number_of_queries(
    client, outsider, show, django_assert_max_num_queries
):
    make_show("other", seasons=3, episodes=10)
    client.force_login(outsider)
    rows = "".join(
        f"{title},{s},{e},\n"
        for title in ("Saga", "Other", "Nope")
        for s in (1, 2, 3)
        for e in range(1, 11)
    )
    with django_assert_max_num_queries(8):
        response = upload(client, CSV_HEADER + rows, name="h.csv")
    assert "Other" in response.content.decode()


# --- Malformed files ---------------------------------------------------------------------------------


MALFORMED = {
    "json syntax": ('[{"show": {"title": "Saga"},', "Not valid JSON: Expecting"),
    "json not a list": ('{"show": {"title": "Saga"}}', "should be a list of shows"),
    "json wrong shape": ('[{"name": "Saga"}]', "[0]: expected a watched show"),
    "json missing title": (
        '[{"show": {}, "seasons": []}]',
        "[0].show.title: expected the show&#x27;s title",
    ),
    "json text number": (
        '[{"show": {"title": "Saga"}, "seasons": [{"number": 1, "episodes": [{"number": "two"}]}]}]',
        "[0].seasons[0].episodes[0].number: expected a whole number",
    ),
    "json negative season": (
        '[{"show": {"title": "Saga"}, "seasons": [{"number": -1, "episodes": [{"number": 1}]}]}]',
        "[0].seasons[0].number: expected a whole number",
    ),
    "json bad date": (
        '[{"show": {"title": "Saga"}, "seasons": [{"number": 1, "episodes": [{"number": 1, "last_watched_at": "2024-13-45"}]}]}]',
        "[0].seasons[0].episodes[0].last_watched_at",
    ),
    "json nested too deeply": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "csv missing column": (
        "tv_show_name,episode_season_number\nSaga,1\n",
        "the header lacks episode_number",
    ),
    "csv text number": (
        CSV_HEADER + "Saga,1,1,\nSaga,1,two,\n",
        "history.txt line 3, episode_number: expected a whole number",
    ),
    "csv short row": (
        CSV_HEADER + "Saga,1\n",
        "history.txt line 2, episode_number: expected a whole number, not nothing",
    ),
    "csv bad date": (
        CSV_HEADER + "Saga,1,1,yesterday\n",
        "history.txt line 2, updated_at: &quot;yesterday&quot; is not a date",
    ),
    "csv bad quoting": (
        CSV_HEADER + 'Saga,1,1,\n"Saga"x,1,2,\n',
        "history.txt line 3: not valid CSV",
    ),
    "not utf-8": ("tv_show_name\nS\xe9rie".encode("latin-1"), "not UTF-8 text"),
    "empty": ("  \n", "The file is empty"),
}


@pytest.mark.parametrize("content, error", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_file_gets_a_clear_error_and_changes_nothing(alice_client, alice, content, error):
    before = Watch.objects.count()
    response = upload(alice_client, content, name="history.txt")
    page = response.content.decode()
    assert error in page
    assert "Check the import" not in page and 'name="token"' not in page
    assert Watch.objects.count() == before and watched(alice) == [1001, 1002, 1003]


def test_one_bad_row_rejects_the_whole_file(alice_client, alice):
    page = upload(
        alice_client, CSV_HEADER + "Saga,1,4,\nSaga,1,5,not-a-date\n", name="h.csv"
    ).content.decode()
    assert "h.csv line 3, updated_at" in page
    assert watched(alice) == [1001, 1002, 1003]


def test_many_problems_are_listed_up_to_a_limit(alice_client):
    rows = "".join(f"Saga,1,x{n},\n" for n in range(100))
    page = upload(alice_client, CSV_HEADER + rows, name="h.csv").content.decode()
    assert "h.csv line 2, episode_number" in page and "h.csv line 21, episode_number" in page
    assert "line 22," not in page and "Stopped after 20 problems" in page


def test_an_oversized_upload_is_refused(alice_client, alice, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    page = upload(alice_client, CSV_HEADER + "x" * (2 * 1024 * 1024), name="h.csv").content.decode()
    assert "the limit is 2 MB" in page
    assert watched(alice) == [1001, 1002, 1003]


def test_too_many_rows_are_refused(alice_client, alice, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_ROWS", 3)
    page = upload(
        alice_client, CSV_HEADER + "Saga,1,4,\nSaga,1,5,\nSaga,2,1,\nSaga,2,2,\n", name="h.csv"
    ).content.decode()
    assert "more than 3 episodes" in page
    assert watched(alice) == [1001, 1002, 1003]


def test_a_missing_file_is_a_form_error(alice_client):
    response = alice_client.post("/history/", {})
    assert "This field is required" in response.content.decode()


# --- The confirmation token -----------------------------------------------------------------------


def test_a_tampered_token_changes_nothing(alice_client, alice, show):
    token = token_in(upload(alice_client, trakt(("Saga", 2, [1, 2, 3]))))
    payload, signature = token.rsplit(":", 1)
    for forged in (
        payload[:-2] + "AA:" + signature,
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "",
        "garbage",
    ):
        response = alice_client.post("/history/confirm/", {"token": forged})
        assert response.status_code == 400
        assert "nothing was imported" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003]


def test_a_token_signed_for_someone_else_changes_nothing(alice_client, alice, bob, show):
    bobs = signing.dumps(
        {"u": bob.pk, "w": [[episode(show, "2x1").pk, None]]},
        salt=matching.TOKEN_SALT,
        compress=True,
    )
    response = alice_client.post("/history/confirm/", {"token": bobs})
    assert response.status_code == 400 and "does not belong to you" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003]


def test_a_token_naming_a_missing_episode_changes_nothing(alice_client, alice, show):
    real = episode(show, "1x4").pk
    token = signing.dumps(
        {"u": alice.pk, "w": [[real, None], [999_999, None]]},
        salt=matching.TOKEN_SALT,
        compress=True,
    )
    response = alice_client.post("/history/confirm/", {"token": token}, follow=True)
    assert "no longer exist" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003]


def test_an_expired_preview_changes_nothing(alice_client, alice, show, monkeypatch):
    token = token_in(upload(alice_client, trakt(("Saga", 1, [4]))))
    monkeypatch.setattr(matching, "TOKEN_MAX_AGE", -1)
    response = alice_client.post("/history/confirm/", {"token": token})
    assert response.status_code == 400 and "Upload the file again" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003]


def test_confirming_twice_adds_nothing_the_second_time(alice_client, alice, show):
    token = token_in(upload(alice_client, trakt(("Saga", 1, [4]))))
    alice_client.post("/history/confirm/", {"token": token})
    response = alice_client.post("/history/confirm/", {"token": token}, follow=True)
    assert "0 episodes marked watched" in response.content.decode()
    assert watched(alice) == [1001, 1002, 1003, 1004]


def test_another_viewers_records_are_untouched(alice_client, alice, bob, show):
    bobs = list(
        Watch.objects.filter(user=bob).order_by("pk").values_list("episode_id", "watched_at")
    )
    response = upload(alice_client, trakt(("Saga", 2, [1, 2, 3, 4, 5])))
    # Bob has watched all of season 2; for alice it is all new.
    assert "To mark watched: S2E1–E5" in response.content.decode()
    alice_client.post("/history/confirm/", {"token": token_in(response)})
    assert (
        list(Watch.objects.filter(user=bob).order_by("pk").values_list("episode_id", "watched_at"))
        == bobs
    )
    assert watched(alice) == [1001, 1002, 1003, 2001, 2002, 2003, 2004, 2005]


# --- Export ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, content_type",
    [
        ("/history/export/trakt.json", "application/json"),
        ("/history/export/tvtime.csv", "text/csv"),
    ],
)
def test_export_is_a_download_of_my_watches_by_number_only(alice_client, bob, url, content_type):
    response = alice_client.get(url)
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith('attachment; filename="spoilerfree-history-')
    body = response.content.decode()
    assert "Saga" in body and "TITLE" not in body and "SYNOPSIS" not in body


def test_trakt_export_holds_watched_shows(alice_client, show):
    data = json.loads(alice_client.get("/history/export/trakt.json").content)
    assert [item["show"]["title"] for item in data] == ["Saga"]
    assert [(s["number"], [e["number"] for e in s["episodes"]]) for s in data[0]["seasons"]] == [
        (1, [1, 2, 3])
    ]
    assert data[0]["seasons"][0]["episodes"][0]["last_watched_at"].endswith("Z")


def test_tvtime_export_holds_one_row_per_watch(alice_client, show):
    rows = list(
        csv.reader(io.StringIO(alice_client.get("/history/export/tvtime.csv").content.decode()))
    )
    assert rows[0] == ["tv_show_name", "episode_season_number", "episode_number", "updated_at"]
    assert [row[:3] for row in rows[1:]] == [
        ["Saga", "1", "1"],
        ["Saga", "1", "2"],
        ["Saga", "1", "3"],
    ]


@pytest.mark.parametrize("fmt", ["trakt.json", "tvtime.csv"])
def test_export_then_import_round_trips(client, show, fmt):
    extras = make_show("extras", seasons=1, episodes=3, specials=1, title="The Extras")
    source, target = make_user("source"), make_user("target")
    watch(source, show, "1x1", "1x2", "2x4")
    watch(source, extras, "0x1", "1x3")
    Watch.objects.filter(user=source, episode=episode(show, "2x4")).update(
        watched_at=datetime(2023, 6, 7, 8, 9, 10, 123000, tzinfo=UTC)
    )
    client.force_login(source)
    exported = client.get(f"/history/export/{fmt}").content

    client.force_login(target)
    response = upload(client, exported, name=fmt)
    assert "Not matched" not in response.content.decode()
    client.post("/history/confirm/", {"token": token_in(response)})

    def history_of(user):
        return sorted(
            (show_id, sequence, at.replace(microsecond=at.microsecond // 1000 * 1000))
            for show_id, sequence, at in Watch.objects.filter(user=user).values_list(
                "episode__show_id", "episode__sequence", "watched_at"
            )
        )

    assert history_of(target) == history_of(source)
    client.force_login(source)
    assert client.get(f"/history/export/{fmt}").content == exported


# --- Access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/history/"),
        ("post", "/history/"),
        ("post", "/history/confirm/"),
        ("get", "/history/export/trakt.json"),
        ("get", "/history/export/tvtime.csv"),
    ],
)
def test_history_needs_a_login(client, show, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_confirm_is_post_only(alice_client):
    assert alice_client.get("/history/confirm/").status_code == 405


def test_upload_and_confirm_need_the_csrf_token(alice, show):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = upload(client, trakt(("Saga", 1, [4])))
    assert response.status_code == 403
    token = signing.dumps(
        {"u": alice.pk, "w": [[episode(show, "1x4").pk, None]]},
        salt=matching.TOKEN_SALT,
        compress=True,
    )
    response = client.post("/history/confirm/", {"token": token})
    assert response.status_code == 403
    assert watched(alice) == [1001, 1002, 1003]


def test_preferences_link_to_the_history_page(alice_client):
    assert 'href="/history/"' in alice_client.get("/accounts/preferences/").content.decode()


def test_history_pages_have_no_inline_scripts_or_styles(alice_client):
    pages = [alice_client.get("/history/"), upload(alice_client, trakt(("Saga", 1, [4])))]
    for html in (page.content.decode() for page in pages):
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert (
            "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
        )


def test_code_ranges_collapse_runs_within_a_season():
    pairs = [(0, 1), (1, 1), (1, 2), (1, 3), (1, 5), (2, 1), (2, 2)]
    assert matching.code_ranges(pairs) == ["S0E1", "S1E1–E3", "S1E5", "S2E1–E2"]


@pytest.mark.parametrize(
    "old, new",
    [
        ("/accounts/history/", "/history/"),
        ("/accounts/history/export/trakt.json", "/history/export/trakt.json"),
        ("/accounts/history/export/tvtime.csv", "/history/export/tvtime.csv"),
    ],
)
def test_the_old_account_urls_redirect_to_the_history_app(alice_client, old, new):
    response = alice_client.get(old)
    assert response.status_code == 301 and response["Location"] == new


def test_a_preview_made_before_the_move_still_confirms(alice_client, alice, show):
    token = token_in(upload(alice_client, trakt(("Saga", 1, [4]))))
    response = alice_client.post("/accounts/history/confirm/", {"token": token})
    assert response.status_code == 308 and response["Location"] == "/history/confirm/"
    alice_client.post(response["Location"], {"token": token})
    assert watched(alice) == [1001, 1002, 1003, 1004]


def test_the_import_form_asks_for_the_export_by_what_it_is(alice_client):
    page = " ".join(alice_client.get("/history/").content.decode().split())
    assert ">Your TV Time or Trakt export:</label>" in page
    assert "Export files" not in page
