"""Each export format as the services deliver it, alone, in their zip and together in one upload.

The fixtures' shapes and where each comes from: tests/fixtures/history/README.md.
"""

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from companion.models import Season, Watch
from tests.factories import make_show
from tests.history.test_history import token_in, watched_at

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "history"


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def zipped(files: dict[str, bytes], **kwargs) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, **kwargs) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def upload(client, *files: tuple[str, bytes]):
    return client.post(
        "/history/", {"files": [SimpleUploadedFile(name, data) for name, data in files]}
    )


def codes(user, show) -> list[str]:
    return sorted(
        f"{s}x{n}"
        for s, n in Watch.objects.filter(user=user, episode__show=show).values_list(
            "episode__season_number", "episode__number"
        )
    )


@pytest.fixture
def mankind(db):
    """For All Mankind, two seasons of three, premiered 2019; no ids, so titles must match."""
    show = make_show("for-all-mankind", seasons=2, episodes=3, title="For All Mankind")
    Season.objects.filter(show=show, number=1).update(premiere_date=date(2019, 11, 1))
    return show


def confirm(client, response):
    return client.post("/history/confirm/", {"token": token_in(response)}, follow=True)


# --- TV Time ---------------------------------------------------------------------------------------


def test_tracking_v2_reads_watch_and_rewatch_rows_and_skips_the_rest(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(
        client, ("tracking-prod-records-v2.csv", fixture("tvtime/tracking-prod-records-v2.csv"))
    )
    page = response.content.decode()
    assert "To mark watched: S1E1–E2" in page
    assert "Love, Death &amp; Robots: 1 episode, no such show here" in page
    confirm(client, response)
    assert codes(outsider, mankind) == ["1x1", "1x2"]
    # Watched, then rewatched: the first viewing counts.
    assert watched_at(outsider, mankind, "1x1") == datetime(2021, 3, 1, 20, tzinfo=UTC)


def test_tracking_v1_reads_epoch_watch_dates_and_leaves_follows_and_movies(
    client, outsider, mankind
):
    client.force_login(outsider)
    response = upload(
        client, ("tracking-prod-records.csv", fixture("tvtime/tracking-prod-records.csv"))
    )
    page = response.content.decode()
    assert "To mark watched: S1E3" in page
    assert "Doctor Who (2005): 2 episodes, no such show here" in page
    assert "FROM" not in page and "Frequency" not in page
    confirm(client, response)
    assert watched_at(outsider, mankind, "1x3") == datetime(2019, 11, 9, 8, tzinfo=UTC)


def test_seen_episode_with_bom_crlf_and_quoted_cells(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(client, ("seen_episode.csv", fixture("tvtime/seen_episode.csv")))
    page = response.content.decode()
    # "For All Mankind (2019)" and "For All Mankind." are both this show.
    assert "To mark watched: S1E1, S2E1" in page
    assert "Doctor Who (2005): 2 episodes, no such show here" in page
    confirm(client, response)
    assert watched_at(outsider, mankind, "2x1") == datetime(2021, 2, 19, 21, tzinfo=UTC)


def test_tvtime_zip_reads_every_episode_file_in_it_and_ignores_the_rest(client, outsider, mankind):
    client.force_login(outsider)
    archive = zipped(
        {
            "tvtime-gdpr/tracking-prod-records-v2.csv": fixture(
                "tvtime/tracking-prod-records-v2.csv"
            ),
            "tvtime-gdpr/tracking-prod-records.csv": fixture("tvtime/tracking-prod-records.csv"),
            "tvtime-gdpr/seen_episode.csv": fixture("tvtime/seen_episode.csv"),
            "tvtime-gdpr/account_info.csv": b"email,created_at\r\nme@example.com,2020-01-01\r\n",
            "tvtime-gdpr/followed_tv_show.csv": b"tv_show_id,tv_show_name\r\n900001,For All Mankind\r\n",
        }
    )
    response = upload(client, ("tvtime-gdpr.zip", archive))
    page = response.content.decode()
    assert "read from 3 files" in page
    assert "To mark watched: S1E1–E3, S2E1" in page
    assert "Doctor Who (2005): 4 episodes, no such show here" in page
    confirm(client, response)
    assert codes(outsider, mankind) == ["1x1", "1x2", "1x3", "2x1"]
    # The earliest date any file gives wins: seen_episode.csv's 2020 viewing, not v2's 2021 one.
    assert watched_at(outsider, mankind, "1x1") == datetime(2020, 1, 5, 21, tzinfo=UTC)


def test_a_csv_is_recognised_by_its_header_whatever_its_name(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(client, ("export (1).csv", fixture("tvtime/tracking-prod-records-v2.csv")))
    assert "To mark watched: S1E1–E2" in response.content.decode()


def test_tvtime_show_ids_are_tvdb_ids(client, outsider, mankind):
    mankind.title = "For All Mankind: Extended"
    mankind.tvdb_id = "900001"
    mankind.save()
    client.force_login(outsider)
    response = upload(
        client, ("tracking-prod-records-v2.csv", fixture("tvtime/tracking-prod-records-v2.csv"))
    )
    assert "To mark watched: S1E1–E2" in response.content.decode()


# --- Trakt -----------------------------------------------------------------------------------------


def test_trakt_zip_merges_every_history_page(client, outsider, mankind):
    client.force_login(outsider)
    archive = zipped(
        {
            "watched-history-1.json": fixture("trakt/watched-history-1.json"),
            "watched-history-2.json": fixture("trakt/watched-history-2.json"),
            "watched-shows.json": fixture("trakt/watched-shows-without-seasons.json"),
            "ratings-episodes.json": b"[]",
            "lists-watchlist.json": b"[]",
        }
    )
    response = upload(client, ("trakt-export.zip", archive))
    page = response.content.decode()
    assert "To mark watched: S1E1–E3" in page
    assert "Doctor Who (2005): 2 episodes, no such show here" in page
    assert "Movies: 1 entry, a movie, not a TV episode" in page
    assert "EPISODE-TITLE" not in page
    confirm(client, response)
    assert codes(outsider, mankind) == ["1x1", "1x2", "1x3"]
    assert watched_at(outsider, mankind, "1x1") == datetime(2021, 3, 1, 20, tzinfo=UTC)


def test_history_pages_uploaded_as_several_files(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(
        client,
        ("watched-history-1.json", fixture("trakt/watched-history-1.json")),
        ("watched-history-2.json", fixture("trakt/watched-history-2.json")),
    )
    assert "To mark watched: S1E1–E3" in response.content.decode()


def test_watched_shows_with_seasons(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(client, ("watched-shows.json", fixture("trakt/watched-shows.json")))
    assert "To mark watched: S1E1–E3" in response.content.decode()


def test_watched_shows_without_seasons_points_to_the_history_files(alice_client, alice, mankind):
    before = Watch.objects.count()
    response = upload(
        alice_client, ("watched-shows.json", fixture("trakt/watched-shows-without-seasons.json"))
    )
    page = response.content.decode()
    assert "lists 1 show but not their episodes" in page
    assert "watched-history-1.json" in page and "the whole zip" in page
    assert Watch.objects.count() == before and 'name="token"' not in page


def test_trakt_ids_match_a_show_whose_title_differs(client, outsider, mankind):
    mankind.title = "FAM"
    mankind.trakt_id = "800001"
    mankind.save()
    client.force_login(outsider)
    response = upload(client, ("watched-shows.json", fixture("trakt/watched-shows.json")))
    assert "To mark watched: S1E1–E3" in response.content.decode()


def test_tvtime_and_trakt_files_together_in_one_upload(client, outsider, mankind):
    client.force_login(outsider)
    response = upload(
        client,
        ("seen_episode.csv", fixture("tvtime/seen_episode.csv")),
        ("trakt.zip", zipped({"watched-history-1.json": fixture("trakt/watched-history-1.json")})),
    )
    page = response.content.decode()
    assert "read from 2 files" in page and "To mark watched: S1E1–E3, S2E1" in page


def test_the_file_picker_takes_several_files_and_zips(alice_client):
    page = alice_client.get("/history/").content.decode()
    assert 'type="file" name="files"' in page and " multiple" in page
    assert 'accept=".zip,' in page
