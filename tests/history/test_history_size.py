"""A heavy user's whole export in one upload: 20,000 plays, timed and measured.

Run with `RUN_SLOW=1 .venv/bin/pytest -q -s tests/history/test_history_size.py`; it prints the figures
(docs/PERFORMANCE.md has the last ones measured). The bounds asserted are generous: they catch a
change that makes an import quadratic, not a slow machine.
"""

import io
import json
import os
import time
import tracemalloc
import zipfile

import pytest
from django.urls import reverse

from companion.models import Episode, Season, Show, Watch
from history import matching, parsers
from history.tasks import apply_import
from tests.factories import make_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("RUN_SLOW"), reason="a measurement; set RUN_SLOW=1"),
]

PLAYS = 20_000
SHOWS, SEASONS, EPISODES = 200, 10, 10  # 20,000 episodes here; the export names 250 shows


def build_catalogue() -> None:
    """200 shows of 10 seasons of 10, in a few bulk statements."""
    shows = Show.objects.bulk_create(
        Show(title=f"Show {n}", slug=f"show-{n}", tvdb_id=str(100000 + n)) for n in range(SHOWS)
    )
    seasons = Season.objects.bulk_create(
        Season(show=show, number=s) for show in shows for s in range(1, SEASONS + 1)
    )
    Episode.objects.bulk_create(
        (
            Episode(
                show_id=season.show_id,
                season=season,
                season_number=season.number,
                number=e,
                title=f"EPISODE-TITLE-{season.show_id}-{season.number}x{e}",
                sequence=(season.number - 1) * EPISODES + e,
            )
            for season in seasons
            for e in range(1, EPISODES + 1)
        ),
        batch_size=2000,
    )


def plays():
    """(show number, season, episode) for 20,000 plays; shows 200-249 are not here."""
    for i in range(PLAYS):
        show = i % 250
        yield show, (i // 250) % SEASONS + 1, (i // 2500) % EPISODES + 1


def trakt_export() -> bytes:
    """Trakt's zip: 20 pages of 1,000 plays in the /sync/history shape, plus watched-shows."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        page = []
        for i, (show, season, number) in enumerate(plays()):
            page.append(
                {
                    "id": 9_000_000_000 + i,
                    "watched_at": f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}T20:{i % 60:02d}:00.000Z",
                    "action": "watch",
                    "type": "episode",
                    "episode": {
                        "season": season,
                        "number": number,
                        "title": f"An episode title of some length {i}",
                        "ids": {
                            "trakt": 5_000_000 + i,
                            "tvdb": 6_000_000 + i,
                            "imdb": None,
                            "tmdb": 7_000_000 + i,
                            "tvrage": None,
                        },
                    },
                    "show": {
                        "title": f"Show {show}" if show < 200 else f"Elsewhere {show} (2005)",
                        "year": 2005,
                        "ids": {
                            "trakt": 80_000 + show,
                            "slug": f"show-{show}",
                            "tvdb": 100000 + show,
                            "imdb": f"tt{1_000_000 + show}",
                            "tmdb": 60_000 + show,
                            "tvrage": None,
                        },
                    },
                }
            )
            if len(page) == 1000:
                name = f"watched-history-{i // 1000 + 1}.json"
                archive.writestr(name, json.dumps(page, indent=2))
                page = []
        archive.writestr("watched-shows.json", json.dumps([{"show": {"title": "Show 0"}}]))
    return out.getvalue()


V2_COLUMNS = (
    "key,runtime,user_id,ep_id,episode_number,created_at,gsi,s_no,episode_id,ep_no,s_id,"
    "series_name,season_number,updated_at,total_movies_runtime,total_series_runtime,"
    "movie_watch_count,ep_watch_count,series_follow_count,is_archived,most_recent_ep_watched,"
    "is_followed,uuid,is_for_later,followed_at,rewatch_count,is_unitary,is_special,bulk_type"
)


def tvtime_export() -> bytes:
    """TV Time's zip: tracking-prod-records-v2.csv with 20,000 watch-episode rows, CRLF."""
    lines = [V2_COLUMNS]
    for i, (show, season, number) in enumerate(plays()):
        title = f"Show {show}" if show < 200 else f"Elsewhere {show} (2005)"
        lines.append(
            f"watch-episode-{i}-{1_600_000_000 + i},45,11111111,{i},{number},"
            f"2022-{i % 12 + 1:02d}-{i % 28 + 1:02d} 20:00:00,,,{i},,{100000 + show},"
            f'"{title}",{season},,,,,,,,,,,,,,,,'
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tracking-prod-records-v2.csv", "\r\n".join(lines) + "\r\n")
        archive.writestr("account_info.csv", "email\r\nme@example.com\r\n")
    return out.getvalue()


def measured(step):
    tracemalloc.start()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak / 1024 / 1024


def trakt_single_file() -> bytes:
    """The same 20,000 plays as one unzipped JSON file, as someone might upload it."""
    with zipfile.ZipFile(io.BytesIO(trakt_export())) as archive:
        plays = [
            play
            for name in sorted(archive.namelist())
            if name.startswith("watched-history-")
            for play in json.loads(archive.read(name))
        ]
    return json.dumps(plays, indent=2).encode()


@pytest.mark.parametrize(
    "service, export, name",
    [
        ("trakt", trakt_export, "trakt.zip"),
        ("trakt-unzipped", trakt_single_file, "watched-history-1.json"),
        ("tvtime", tvtime_export, "tvtime.zip"),
    ],
)
def test_a_20000_play_export_previews_and_applies_in_one_upload(
    db, client, queued_tasks, service, export, name
):
    build_catalogue()
    user = make_user("heavy")
    archive = export()
    uncompressed = (
        sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(archive)).infolist())
        if name.endswith(".zip")
        else len(archive)
    )

    def preview():
        parsed = parsers.read_uploads([(name, archive)])
        result = matching.match(parsed, user=user)
        return result, matching.sign(result, user=user)

    (result, token), preview_s, preview_mb = measured(preview)
    # The confirmation only queues the job; the job marks the episodes.
    client.force_login(user)
    started = time.perf_counter()  # without tracemalloc, which slows Python several times
    response = client.post(reverse("history-confirm"), {"token": token})
    confirm_s = time.perf_counter() - started
    assert response.status_code == 302 and Watch.objects.filter(user=user).count() == 0
    added, apply_s, apply_mb = measured(lambda: apply_import.call(*queued_tasks.results[0].args))
    print(
        f"\n{service}: {PLAYS:,} plays, upload {len(archive) / 1e6:.1f} MB, unzipped "
        f"{uncompressed / 1e6:.1f} MB; preview {preview_s:.2f} s, peak {preview_mb:.0f} MB; "
        f"token {len(token) / 1e3:.0f} kB; confirm request {confirm_s:.2f} s; "
        f"job {apply_s:.2f} s, peak {apply_mb:.0f} MB; {added:,} marked, "
        f"{result.unmatched_count:,} unmatched in {len(result.unmatched)} groups"
    )
    assert added == result.new_count == Watch.objects.filter(user=user).count() > 10_000
    assert len(result.unmatched) == 50
    assert preview_s < 60 and apply_s < 60
