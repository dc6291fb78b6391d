"""A ten-season show in TVmaze's shapes, built from the recorded ones, for timing an import."""

import copy
import datetime as dt

from tests.catalogue.conftest import load

SHOW_ID = 9000


def long_show(seasons: int = 10, per_season: int = 22) -> dict[str, object]:
    """URL path -> response for a show of `seasons` x `per_season` episodes, a significant special
    a week after each finale, twelve main cast and a recurring guest per season."""
    show = copy.deepcopy(load("shows-1.json"))
    template = show["_embedded"]["episodes"][0]
    cast_template = show["_embedded"]["cast"][0]
    show.update(
        id=SHOW_ID,
        name="The Long Run",
        externals={"tvrage": None, "thetvdb": 900000, "imdb": "tt9000000"},
    )
    episodes, specials, responses = [], [], {}
    aired = dt.datetime(2010, 9, 20, 2, 0, tzinfo=dt.UTC)
    next_id = 900_000
    for season in range(1, seasons + 1):
        for number in range(1, per_season + 1):
            next_id += 1
            episodes.append(
                template
                | {
                    "id": next_id,
                    "name": f"Chapter {season}.{number}",
                    "season": season,
                    "number": number,
                    "airdate": aired.date().isoformat(),
                    "airstamp": aired.isoformat(),
                    "summary": f"<p>What happens in <b>{season}x{number}</b> &amp; after.</p>",
                }
            )
            aired += dt.timedelta(days=7)
        next_id += 1
        specials.append(
            template
            | {
                "id": next_id,
                "name": f"Holiday Special {season}",
                "season": season,
                "number": None,
                "type": "significant_special",
                "airdate": aired.date().isoformat(),
                "airstamp": aired.isoformat(),
            }
        )
        aired += dt.timedelta(days=180)
    cast = [
        copy.deepcopy(cast_template)
        | {
            "person": cast_template["person"] | {"id": 800 + n, "name": f"Actor {n}"},
            "character": cast_template["character"] | {"id": 800 + n, "name": f"Lead {n}"},
        }
        for n in range(12)
    ]
    show["_embedded"] = {"episodes": episodes, "cast": cast}
    responses[f"/shows/{SHOW_ID}"] = show
    responses[f"/shows/{SHOW_ID}/episodes"] = [*episodes, *specials]
    responses[f"/shows/{SHOW_ID}/images"] = load("shows-1-images.json")
    for episode in [*episodes, *specials]:
        season = episode["season"]
        guest = copy.deepcopy(cast_template) | {
            "person": cast_template["person"] | {"id": 700 + season, "name": f"Guest {season}"},
            "character": cast_template["character"]
            | {"id": 700 + season, "name": f"Visitor {season}"},
        }
        responses[f"/episodes/{episode['id']}/guestcast"] = (
            [guest] if episode["number"] in (3, 4) else []
        )
    return responses
