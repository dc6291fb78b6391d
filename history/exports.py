"""A viewer's watches as Trakt's watched-shows JSON or TV Time-style CSV: numbers and dates only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from itertools import groupby

from .matching import SHOW_ID_FIELDS

TVTIME_COLUMNS = ("tv_show_name", "episode_season_number", "episode_number", "updated_at")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _watch_rows(user):
    return user.watches.order_by(
        "episode__show__title", "episode__show_id", "episode__sequence"
    ).values_list(
        "episode__show_id",
        "episode__show__title",
        "episode__season_number",
        "episode__number",
        "watched_at",
        *(f"episode__show__{field}" for field in SHOW_ID_FIELDS.values()),
    )


def export_trakt(user) -> str:
    """The viewer's watches as Trakt's watched-shows export: show title, ids, numbers and dates."""
    shows = []
    for _, grouped in groupby(_watch_rows(user), key=lambda row: row[0]):
        show_rows = list(grouped)
        seasons = []
        for season, season_rows in groupby(show_rows, key=lambda row: row[2]):
            seasons.append(
                {
                    "number": season,
                    "episodes": [
                        {"number": row[3], "plays": 1, "last_watched_at": _iso(row[4])}
                        for row in season_rows
                    ],
                }
            )
        ids = {
            service: value
            for service, value in zip(SHOW_ID_FIELDS, show_rows[0][5:], strict=True)
            if value
        }
        show = {"title": show_rows[0][1]} | ({"ids": ids} if ids else {})
        shows.append(
            {
                "plays": len(show_rows),
                "last_watched_at": _iso(max(row[4] for row in show_rows)),
                "show": show,
                "seasons": seasons,
            }
        )
    return json.dumps(shows, indent=2, ensure_ascii=False)


def export_tvtime(user) -> str:
    """The viewer's watches as TV Time-style CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TVTIME_COLUMNS)
    for _, title, season, number, at, *_ids in _watch_rows(user):
        writer.writerow([title, season, number, _iso(at)])
    return out.getvalue()
