"""Import and export of a show's content as one YAML (or JSON) document.

The format is documented in docs/CONTENT_FORMAT.md. An import is validated first, with errors
that name the path and line of the offending value, then applied in one transaction, so a bad
file changes nothing. Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .models import (
    MAX_NUMBER,
    Character,
    CharacterState,
    Episode,
    Recap,
    ReviewerNote,
    Season,
    Show,
    parse_code,
    source_problems,
    story_order,
)

STATUSES = {choice.value for choice in CharacterState.Status}


class ContentError(Exception):
    """A content file that cannot be imported; `problems` lists every one found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def parse(text: str) -> tuple[dict, dict[str, int]]:
    """Parse YAML (JSON is valid YAML) and map each value's path to its line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ContentError(
            [f"{where}not valid YAML or JSON ({getattr(error, 'problem', error)})"]
        ) from None
    lines: dict[str, int] = {}
    # PostgreSQL cannot store or compare text holding NUL ("\\0" or "\\u0000" in YAML and JSON).
    nul_at: list[int] = []

    def walk(n, path):
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                if "\x00" in str(key.value):
                    nul_at.append(key.start_mark.line + 1)
                walk(value, f"{path}.{key.value}" if path else str(key.value))
        elif isinstance(n, yaml.SequenceNode):
            for index, item in enumerate(n.value):
                walk(item, f"{path}[{index}]")
        elif "\x00" in str(n.value):
            nul_at.append(n.start_mark.line + 1)

    if node is not None:
        walk(node, "")
    if nul_at:
        raise ContentError([f"line {line}: holds a NUL character" for line in nul_at])
    return data, lines


@dataclass
class _Checker:
    lines: dict[str, int]
    problems: list[str]

    def fail(self, path: str, message: str) -> None:
        line = self.lines.get(path)
        self.problems.append(f"{path} (line {line}): {message}" if line else f"{path}: {message}")

    def text(self, item: dict, key: str, path: str, *, required=False, max_length=None) -> str:
        value = item.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", "must be text")
            return ""
        if required and not value.strip():
            self.fail(f"{path}.{key}", "is required")
        if max_length and len(value) > max_length:
            self.fail(f"{path}.{key}", f"is longer than {max_length} characters")
        return value.strip()

    def date(self, item: dict, key: str, path: str):
        value = item.get(key)
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{path}.{key}", "must be a date like 2019-11-01, or null")

    def items(self, data: dict, key: str, path: str) -> list:
        value = data.get(key) or []
        if not isinstance(value, list):
            self.fail(f"{path}{key}", "must be a list")
            return []
        return value

    def sources(self, item: dict, key: str, path: str) -> list[dict]:
        """A list of sources (outlet, title, url), each field stripped; [] when absent."""
        value = item.get(key)
        if value is None:
            return []
        if problems := source_problems(value):
            for at, problem in problems:
                self.fail(f"{path}.{key}{at}", problem)
            return []
        return [
            {k: source.get(k, "").strip() for k in ("outlet", "title", "url")} for source in value
        ]

    def mapping(self, value, path: str) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of fields")
            return False
        return True


def load_show(text: str) -> Show:
    """Validate and import a content document; returns the show."""
    data, lines = parse(text)
    check = _Checker(lines, [])
    if not isinstance(data, dict):
        raise ContentError(
            ["the document must be a mapping with show, seasons, characters and notes"]
        )
    plan = _plan(data, check)
    if check.problems:
        raise ContentError(check.problems)
    try:
        with transaction.atomic():
            return _apply(plan)
    except ValidationError as error:
        raise ContentError([f"{plan['where']}: {'; '.join(error.messages)}"]) from None


SHOW_IDS = ("tvdb_id", "tmdb_id", "imdb_id", "trakt_id")
EPISODE_IDS = ("tvdb_id", "tmdb_id", "imdb_id")


def _plan(data: dict, check: _Checker) -> dict:
    show = data.get("show") or {}
    if not check.mapping(show, "show"):
        show = {}
    plan: dict[str, Any] = {
        "show": {
            "title": check.text(show, "title", "show", required=True, max_length=200),
            "slug": check.text(show, "slug", "show", max_length=50)
            or slugify(show.get("title") or ""),
            "network": check.text(show, "network", "show", max_length=100),
            "premise": check.text(show, "premise", "show"),
            **{key: _external_id(check, show, key, "show") for key in SHOW_IDS},
        },
        "seasons": [],
        "characters": [],
        "notes": [],
        "where": "document",
    }
    # Episodes by (season, number), as stand-ins ordered the way the show will be, so that every
    # "must not come before" rule is checked on the order the import will produce.
    stand_ins: dict[tuple[int, int], Episode] = {}
    airs_after: list[tuple[Episode, object, str]] = []
    period_reveals: list[tuple[dict, object, str]] = []
    for s_index, season in enumerate(check.items(data, "seasons", "")):
        path = f"seasons[{s_index}]"
        if not check.mapping(season, path):
            continue
        number = season.get("number")
        if not isinstance(number, int) or not 0 <= number <= MAX_NUMBER:
            check.fail(
                f"{path}.number", f"must be a whole number from 0 (specials) to {MAX_NUMBER}"
            )
            continue
        planned: dict[str, Any] = {
            "number": number,
            "period": check.text(season, "period", path, max_length=100),
            "premiere_date": check.date(season, "premiere_date", path),
            "episodes": [],
        }
        if season.get("period_revealed_at") is not None:
            period_reveals.append((planned, season["period_revealed_at"], path))
        for e_index, episode in enumerate(check.items(season, "episodes", f"{path}.")):
            e_path = f"{path}.episodes[{e_index}]"
            if not check.mapping(episode, e_path):
                continue
            e_number = episode.get("number")
            if not isinstance(e_number, int) or not 1 <= e_number <= MAX_NUMBER:
                check.fail(f"{e_path}.number", f"must be a whole number from 1 to {MAX_NUMBER}")
                continue
            if (number, e_number) in stand_ins:
                check.fail(f"{e_path}.number", f"episode {number}x{e_number} is listed twice")
            item = {
                "number": e_number,
                "title": check.text(episode, "title", e_path, max_length=200),
                "synopsis": check.text(episode, "synopsis", e_path),
                "air_date": check.date(episode, "air_date", e_path),
                "recap": check.text(episode, "recap", e_path),
                "recap_sources": check.sources(episode, "recap_sources", e_path),
                "airs_after": None,
                **{key: _external_id(check, episode, key, e_path) for key in EPISODE_IDS},
            }
            stand_in = Episode(
                pk=len(stand_ins) + 1,
                season_number=number,
                number=e_number,
                air_date=item["air_date"],
            )
            stand_ins[number, e_number] = stand_in
            if episode.get("airs_after") is not None:
                if number != 0:
                    check.fail(
                        f"{e_path}.airs_after",
                        "only a special (season 0) airs after another episode",
                    )
                else:
                    airs_after.append((stand_in, episode["airs_after"], f"{e_path}.airs_after"))
                    item["stand_in"] = stand_in
            planned["episodes"].append(item)
        plan["seasons"].append(planned)

    def code_of(value, path) -> tuple[int, int] | None:
        code = parse_code(value)
        if code is None:
            check.fail(path, f'must be an episode like "3x10", not {value!r}')
        elif code not in stand_ins:
            check.fail(path, f"episode {value} is not in this show's seasons")
            return None
        return code

    for stand_in, value, path in airs_after:
        code = code_of(value, path)
        if code is not None and code[0] == 0:
            check.fail(path, "must name a regular episode, not a special")
        elif code is not None:
            stand_in.airs_after_id = stand_ins[code].pk
    for planned, value, path in period_reveals:
        planned["period_revealed_at"] = code_of(value, f"{path}.period_revealed_at")
    for planned in plan["seasons"]:
        for item in planned["episodes"]:
            stand_in = item.pop("stand_in", None)
            if stand_in is not None and stand_in.airs_after_id:
                item["airs_after"] = next(
                    c for c, e in stand_ins.items() if e.pk == stand_in.airs_after_id
                )
    places = {
        (e.season_number, e.number): place
        for place, e in enumerate(story_order(list(stand_ins.values())), 1)
    }

    def ref(item, key, path, *, not_before=None, required=True):
        value = item.get(key)
        if value is None and not required:
            return None
        code = code_of(value, f"{path}.{key}")
        if code is not None and not_before is not None and places[code] < places[not_before]:
            check.fail(f"{path}.{key}", f"{value} is earlier than the episode it must follow")
        return code

    slugs: set[str] = set()
    for c_index, character in enumerate(check.items(data, "characters", "")):
        path = f"characters[{c_index}]"
        if not check.mapping(character, path):
            continue
        name = check.text(character, "name", path, required=True, max_length=200)
        slug = slugify(character.get("slug") or name)
        if slug in slugs:
            check.fail(f"{path}.name", f"another character already has the name {name!r}")
        slugs.add(slug)
        first = ref(character, "first_appearance", path)
        aliases = character.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            check.fail(f"{path}.aliases", "must be a list of names")
            aliases = []
        exact = character.get("first_appearance_exact", True)
        if not isinstance(exact, bool):
            check.fail(f"{path}.first_appearance_exact", "must be true or false")
        states: list[dict[str, Any]] = []
        for st_index, state in enumerate(check.items(character, "states", f"{path}.")):
            st_path = f"{path}.states[{st_index}]"
            if not check.mapping(state, st_path):
                continue
            status = state.get("status", "alive")
            if status not in STATUSES:
                check.fail(f"{st_path}.status", f"must be one of {', '.join(sorted(STATUSES))}")
            reveal = ref(state, "as_of", st_path, not_before=first)
            if reveal is not None and any(other["reveal"] == reveal for other in states):
                # Stored one per episode, so a second would silently replace the first.
                check.fail(f"{st_path}.as_of", f"{state['as_of']} already has a state for {name}")
            states.append(
                {
                    "reveal": reveal,
                    "status": status,
                    "location": check.text(state, "location", st_path, max_length=200),
                    "affiliation": check.text(state, "affiliation", st_path, max_length=200),
                    "description": check.text(state, "description", st_path),
                    "sources": check.sources(state, "sources", st_path),
                }
            )
        plan["characters"].append(
            {
                "name": name,
                "slug": slug,
                "first": first,
                "states": states,
                "actor": check.text(character, "actor", path, max_length=200),
                "aliases": ", ".join(a.strip() for a in aliases if a.strip()),
                "first_appearance_exact": exact is not False,
                "sources": check.sources(character, "sources", path),
            }
        )

    for n_index, note in enumerate(check.items(data, "notes", "")):
        path = f"notes[{n_index}]"
        if not check.mapping(note, path):
            continue
        episode = ref(note, "episode", path)
        planned = {
            "episode": episode,
            "reveal": ref(note, "reveal", path, not_before=episode),
            "text": check.text(note, "text", path, required=True),
            "outlet": check.text(note, "outlet", path, max_length=200),
            "author": check.text(note, "author", path, max_length=200),
            "article_title": check.text(note, "article_title", path, max_length=300),
            "url": check.text(note, "url", path, max_length=500),
        }
        if planned["url"] and source_problems([{"title": "note", "url": planned["url"]}]):
            check.fail(f"{path}.url", "is not an http(s) address")
        if not (planned["outlet"] or planned["author"] or planned["article_title"]):
            check.fail(path, "a note needs a source: outlet, author or article_title")
        plan["notes"].append(planned)
    return plan


def _external_id(check: _Checker, item: dict, key: str, path: str) -> str:
    value = item.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        check.fail(f"{path}.{key}", "must be an id (text or a number)")
        return ""
    if len(value) > 20:
        check.fail(f"{path}.{key}", "is longer than 20 characters")
    return value.strip()


def _apply(plan: dict) -> Show:
    show = _upsert(Show, {"slug": plan["show"]["slug"]}, plan["show"])
    by_code: dict[tuple[int, int], Episode] = {}
    for planned in plan["seasons"]:
        season = _upsert(
            Season,
            {"show": show, "number": planned["number"]},
            {"period": planned["period"], "premiere_date": planned["premiere_date"]},
        )
        for item in planned["episodes"]:
            values = {key: item[key] for key in ("title", "synopsis", "air_date", *EPISODE_IDS)}
            by_code[planned["number"], item["number"]] = _upsert(
                Episode, {"season": season, "number": item["number"]}, values
            )
    # Places next, so every reveal point below is checked against the order being imported.
    for planned in plan["seasons"]:
        for item in planned["episodes"]:
            episode = by_code[planned["number"], item["number"]]
            _upsert(Episode, {"pk": episode.pk}, {"airs_after": by_code.get(item["airs_after"])})
    show.resequence(check=False)
    by_code = {
        (e.season_number, e.number): e for e in show.episodes.select_related("season", "show")
    }
    for planned in plan["seasons"]:
        reveal = by_code.get(planned.get("period_revealed_at"))
        _upsert(Season, {"show": show, "number": planned["number"]}, {"period_revealed_at": reveal})
        for item in planned["episodes"]:
            episode = by_code[planned["number"], item["number"]]
            if item["recap"]:
                _upsert(
                    Recap,
                    {"episode": episode},
                    {"text": item["recap"], "reveal_at": episode, "sources": item["recap_sources"]},
                )
            else:
                Recap.objects.filter(episode=episode).delete()

    kept_characters, kept_states = [], []
    for item in plan["characters"]:
        character = _upsert(
            Character,
            {"show": show, "slug": item["slug"]},
            {
                "name": item["name"],
                "actor": item["actor"],
                "aliases": item["aliases"],
                "first_appearance": by_code[item["first"]],
                "first_appearance_exact": item["first_appearance_exact"],
                "sources": item["sources"],
            },
        )
        kept_characters.append(character.pk)
        for state in item["states"]:
            kept_states.append(
                _upsert(
                    CharacterState,
                    {"character": character, "reveal_at": by_code[state["reveal"]]},
                    {
                        key: state[key]
                        for key in ("status", "location", "affiliation", "description", "sources")
                    },
                ).pk
            )
    CharacterState.objects.filter(character__show=show).exclude(pk__in=kept_states).delete()
    Character.objects.filter(show=show).exclude(pk__in=kept_characters).delete()

    kept_notes = []
    for item in plan["notes"]:
        kept_notes.append(
            _upsert(
                ReviewerNote,
                {
                    "episode": by_code[item["episode"]],
                    "text": item["text"],
                    "outlet": item["outlet"],
                    "author": item["author"],
                    "article_title": item["article_title"],
                },
                {"reveal_at": by_code[item["reveal"]], "url": item["url"]},
            ).pk
        )
    ReviewerNote.objects.filter(episode__show=show).exclude(pk__in=kept_notes).delete()
    show.resequence()
    return show


def _upsert(model, lookup: dict, values: dict):
    """update_or_create that validates, and writes only when something differs."""
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    changed = obj.pk is None
    for key, value in values.items():
        current = (
            getattr(obj, key, None) if not hasattr(value, "pk") else getattr(obj, f"{key}_id", None)
        )
        new = value.pk if hasattr(value, "pk") else value
        if current != new:
            setattr(obj, key, value)
            changed = True
    if changed:
        if isinstance(obj, Episode):
            # The order is checked once, when every episode is in its new place.
            obj.clean_fields()
            obj.save()
        else:
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save()
    return obj


def dump_show(show: Show) -> dict:
    """The show's content as a document that load_show accepts."""
    seasons = []
    # Optional keys are written only when set, so an export reads like a hand-written file.
    for season in show.seasons.select_related("period_revealed_at").prefetch_related(
        "episodes__recap", "episodes__airs_after"
    ):
        episodes = []
        for episode in season.episodes.all():
            item = {
                "number": episode.number,
                "title": episode.title,
                "air_date": episode.air_date,
                "synopsis": episode.synopsis,
            }
            if episode.airs_after is not None:
                item["airs_after"] = episode.airs_after.code
            item |= {key: getattr(episode, key) for key in EPISODE_IDS if getattr(episode, key)}
            recap = getattr(episode, "recap", None)
            if recap is not None:
                item["recap"] = recap.text
                if recap.sources:
                    item["recap_sources"] = recap.sources
            episodes.append(item)
        planned = {"number": season.number, "period": season.period}
        if season.period_revealed_at is not None:
            planned["period_revealed_at"] = season.period_revealed_at.code
        seasons.append(planned | {"premiere_date": season.premiere_date, "episodes": episodes})
    characters = [
        {
            "name": c.name,
            "actor": c.actor,
            **({"aliases": c.names[1:]} if c.aliases else {}),
            "first_appearance": c.first_appearance.code,
            **({} if c.first_appearance_exact else {"first_appearance_exact": False}),
            **({"sources": c.sources} if c.sources else {}),
            "states": [
                {
                    "as_of": s.reveal_at.code,
                    "status": s.status,
                    "location": s.location,
                    "affiliation": s.affiliation,
                    "description": s.description,
                    **({"sources": s.sources} if s.sources else {}),
                }
                for s in c.states.select_related("reveal_at")
            ],
        }
        for c in show.characters.select_related("first_appearance")
    ]
    notes = [
        {
            "episode": n.episode.code,
            "reveal": n.reveal_at.code,
            "outlet": n.outlet,
            "author": n.author,
            "article_title": n.article_title,
            **({"url": n.url} if n.url else {}),
            "text": n.text,
        }
        for n in ReviewerNote.objects.filter(episode__show=show).select_related(
            "episode", "reveal_at"
        )
    ]
    return {
        "show": {
            "title": show.title,
            "slug": show.slug,
            "network": show.network,
            **{key: getattr(show, key) for key in SHOW_IDS if getattr(show, key)},
            "premise": show.premise,
        },
        "seasons": seasons,
        "characters": characters,
        "notes": notes,
    }


def dump_yaml(show: Show) -> str:
    return yaml.safe_dump(dump_show(show), sort_keys=False, allow_unicode=True, width=100)
