"""Step 1 of the benchmark: a large synthetic show, the demo show, users and their progress."""

from __future__ import annotations

import datetime as dt
import io
import random
import secrets
import time
from itertools import product

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from companion.models import (
    Character,
    CharacterState,
    Episode,
    Follow,
    Recap,
    ReviewerNote,
    Season,
    Show,
    Watch,
)

SLUG = "the-long-watch"
SMALL_SLUG = "for-all-mankind"
SEASONS, EPISODES_PER_SEASON, SPECIALS = 20, 25, 5
CHARACTERS, STATES_PER_CHARACTER = 300, 10
NOTES, USERS = 50_000, 10_000
# The "mid" viewer has watched the first half: 250 of 500 regular episodes, safe up to 10x25.
MID_WATCHED = 250
UP_TO_USERS = 120
SEARCH_TERM = "signal"
# The demo show's episodes that no synthetic viewer has watched yet (bench.viewers marks them).
SMALL_AHEAD = 12

WORDS = [
    "signal",
    "orbit",
    "launch",
    "crew",
    "capsule",
    "mission",
    "control",
    "station",
    "lunar",
    "base",
    "rover",
    "colony",
    "engineer",
    "pilot",
    "senator",
    "director",
    "program",
    "budget",
    "rival",
    "hearing",
    "launchpad",
    "reactor",
    "supply",
    "ship",
    "storm",
    "dust",
    "crater",
    "ice",
    "mine",
    "strike",
    "union",
    "daughter",
    "son",
    "marriage",
    "secret",
    "letter",
    "trial",
    "vote",
    "deal",
    "defector",
    "warning",
    "failure",
    "rescue",
    "countdown",
    "silence",
    "radio",
    "antenna",
    "telemetry",
    "fuel",
    "oxygen",
    "habitat",
    "hatch",
    "airlock",
    "spacesuit",
    "helmet",
    "visor",
    "training",
    "simulator",
    "committee",
    "press",
    "briefing",
    "memo",
    "promise",
    "betrayal",
    "debt",
    "memory",
    "garden",
    "kitchen",
    "highway",
    "desert",
    "ocean",
    "harbour",
    "airport",
]
FIRST_NAMES = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Edie",
    "Finn",
    "Gale",
    "Hana",
    "Ivo",
    "Jun",
    "Kara",
    "Leon",
    "Mira",
    "Nils",
    "Odile",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tova",
    "Umar",
    "Vera",
    "Wes",
    "Xena",
    "Yuri",
    "Zora",
    "Amos",
    "Bea",
    "Cyril",
    "Dina",
]
LAST_NAMES = [
    "Baldwin",
    "Stevens",
    "Poole",
    "Wilson",
    "Rosales",
    "Ellis",
    "Morozov",
    "Sato",
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Novak",
    "Quint",
    "Reyes",
    "Santos",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zeller",
    "Abbott",
    "Bishop",
    "Carver",
    "Dunn",
    "Ferro",
    "Gray",
    "Holt",
]
OUTLETS = [
    "The Orbit",
    "Screen Weekly",
    "Night Review",
    "The Dispatch",
    "Telly Times",
    "Couch Critic",
]


def create_episodes(show: Show, episodes: list[tuple[Season, int, dict]]) -> list[Episode]:
    """Bulk-create a show's episodes from (season, number, other fields); all of them, in order.

    The one place where the benchmark makes episodes: bulk_create does not call Episode.save(),
    so the fields it derives are set here, and only here.
    """
    Episode.objects.bulk_create(
        Episode(
            show=show,
            season=season,
            number=number,
            season_number=season.number,
            # Distinct places for the insert; resequence() then puts them in story order.
            sequence=season.number * 1000 + number,
            **fields,
        )
        for season, number, fields in episodes
    )
    show.resequence(check=False)
    return list(show.episodes.order_by("sequence"))


def episode_at(show: Show, season: int, number: int) -> Episode:
    """An episode by its season and number, whatever `sequence` holds."""
    return show.episodes.get(season_number=season, number=number)


def build(scale: float) -> dict:
    """Create the large show, the demo show, users and their progress with bulk inserts."""
    rng = random.Random(7)
    started = time.monotonic()
    n_users, n_notes = max(UP_TO_USERS + 10, int(USERS * scale)), int(NOTES * scale)
    sentences = [sentence(rng) for _ in range(3000)]

    def text(n: int) -> str:
        return " ".join(rng.choices(sentences, k=n))

    def say(message: str) -> None:
        print(f"  [{time.monotonic() - started:6.1f} s] {message}", flush=True)

    # The demo show and its viewer (safe at 3x10) exactly as `manage.py load_demo` makes them.
    say("loading the demo show (For All Mankind) and its viewer with load_demo")
    call_command("load_demo", stdout=io.StringIO())
    with transaction.atomic():
        show = Show.objects.create(
            title="The Long Watch",
            slug=SLUG,
            network="Bench Network",
            premise="A synthetic show, large enough to find what does not scale.",
        )
        Season.objects.bulk_create(
            Season(show=show, number=n, period=f"{1960 + 2 * n}" if n else "")
            for n in range(SEASONS + 1)
        )
        seasons = {season.number: season for season in show.seasons.all()}
        premiere = dt.date(2000, 1, 7)
        numbers = [
            (seasons[season], number)
            for season in range(SEASONS + 1)
            for number in range(1, (SPECIALS if season == 0 else EPISODES_PER_SEASON) + 1)
        ]
        episodes = create_episodes(
            show,
            [
                (
                    season,
                    number,
                    {
                        "title": title(rng),
                        "synopsis": text(2),
                        "air_date": premiere + dt.timedelta(days=7 * index),
                    },
                )
                for index, (season, number) in enumerate(numbers)
            ],
        )
        specials = [e for e in episodes if e.season_id == seasons[0].pk]
        regular = [e for e in episodes if e.season_id != seasons[0].pk]
        say(f"{len(regular)} episodes and {len(specials)} specials")

        Recap.objects.bulk_create(
            Recap(episode=e, reveal_at=e, text="\n\n".join(text(4) for _ in range(3)))
            for e in episodes
        )
        names = rng.sample(
            [f"{first} {last}" for first, last in product(FIRST_NAMES, LAST_NAMES)], CHARACTERS
        )
        # Most characters arrive early, a few late: index grows faster than linearly.
        firsts = [
            min(len(regular) - STATES_PER_CHARACTER, int(len(regular) * (i / CHARACTERS) ** 1.3))
            for i in range(CHARACTERS)
        ]
        Character.objects.bulk_create(
            Character(
                show=show,
                name=name,
                slug=slugify(name),
                first_appearance=regular[first],
                actor=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            )
            for name, first in zip(names, firsts, strict=True)
        )
        characters = {c.slug: c for c in show.characters.all()}
        statuses = ["alive"] * 6 + ["missing", "imprisoned", "unknown", "dead"]
        states = []
        for name, first in zip(names, firsts, strict=True):
            later = rng.sample(range(first + 1, len(regular)), STATES_PER_CHARACTER - 1)
            for index in [first, *sorted(later)]:
                states.append(
                    CharacterState(
                        character=characters[slugify(name)],
                        reveal_at=regular[index],
                        status=rng.choice(statuses),
                        location=rng.choice(WORDS).title(),
                        affiliation=rng.choice(WORDS).title(),
                        description=text(1),
                    )
                )
        CharacterState.objects.bulk_create(states, batch_size=1000)
        say(f"{len(episodes)} recaps, {CHARACTERS} characters, {len(states)} states")

        notes = []
        for _ in range(n_notes):
            index = rng.randrange(len(regular))
            # Most notes are safe once their episode is watched; some discuss later events.
            reveal = (
                index if rng.random() < 0.85 else min(len(regular) - 1, index + rng.randint(1, 25))
            )
            notes.append(
                ReviewerNote(
                    episode=regular[index],
                    reveal_at=regular[reveal],
                    text=text(2),
                    outlet=rng.choice(OUTLETS),
                    author=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    article_title=title(rng),
                )
            )
        ReviewerNote.objects.bulk_create(notes, batch_size=2000)
        say(f"{len(notes)} reviewer notes")

        User = get_user_model()
        # Hashing a password takes ~0.3 s on purpose; one hash serves every synthetic user.
        password = make_password(secrets.token_urlsafe(16))
        roles = ["bench-start", "bench-mid", "bench-end"] + [
            f"bench-upto-{i:03d}" for i in range(UP_TO_USERS)
        ]
        usernames = roles + [f"viewer{i:05d}" for i in range(n_users - len(roles))]
        User.objects.bulk_create(
            (
                User(username=name, email=f"{name}@example.com", password=password)
                for name in usernames
            ),
            batch_size=2000,
        )
        user_ids = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        say(f"{len(usernames)} users")

        # The unbroken runs from the first episode, 2.5 million rows at full size, are one
        # INSERT ... SELECT from a table of (viewer, last episode of the run): bulk_create would take
        # minutes. The rest (episodes watched ahead, past a gap, and specials) is bulk_create.
        now = timezone.now()
        regular_ids = [e.pk for e in regular]
        special_ids = [e.pk for e in specials]
        runs, extra = [], []
        # Where each synthetic viewer's unbroken run ends, for bench.viewers: (long show, ahead).
        progress: dict[str, tuple[int, bool]] = {}
        for name in usernames:
            user_id = user_ids[name]
            if name == "bench-start":
                continue
            if name == "bench-mid":
                runs.append((user_id, regular[MID_WATCHED - 1].sequence))
            elif name == "bench-end":
                runs.append((user_id, regular[-1].sequence))
                extra += [(user_id, pk) for pk in special_ids]
            elif name.startswith("bench-upto-"):
                runs.append((user_id, regular[199].sequence))
            else:
                upto = rng.randint(0, len(regular))
                if upto:
                    runs.append((user_id, regular[upto - 1].sequence))
                ahead = rng.random() < 0.2
                progress[name] = (upto, ahead)
                if ahead:  # watched ahead, past a gap
                    extra += [
                        (user_id, pk)
                        for pk in regular_ids[upto + 1 : upto + 1 + rng.randint(1, 20)]
                    ]
                if rng.random() < 0.3:
                    extra += [
                        (user_id, pk)
                        for pk in rng.sample(special_ids, rng.randint(1, len(special_ids)))
                    ]
        insert_runs(show, runs, now)
        Watch.objects.bulk_create(
            (Watch(user_id=user_id, episode_id=pk, watched_at=now) for user_id, pk in extra),
            batch_size=5000,
        )
        total = Watch.objects.filter(episode__show=show).count()
        # Marking an episode follows its show, so every viewer who has watched some of the long
        # show has it on their home page, as they would on the site.
        Follow.objects.bulk_create(
            (Follow(user_id=user_id, show=show) for user_id in {u for u, _ in runs + extra}),
            batch_size=5000,
            ignore_conflicts=True,
        )
        small = Show.objects.get(slug=SMALL_SLUG)
        Watch.objects.mark_watched_up_to(
            user=User.objects.get(username="bench-mid"), episode=episode_at(small, 3, 10)
        )
        # Every synthetic viewer is somewhere in the demo show too, with at least its last
        # SMALL_AHEAD episodes still to watch, so the loop always has a next episode to mark.
        small_regular = list(small.episodes.regular().order_by("sequence"))
        small_runs = {
            name: rng.randint(1, len(small_regular) - SMALL_AHEAD)
            for name in usernames
            if name.startswith("viewer")
        }
        insert_runs(
            small,
            [
                (user_ids[name], small_regular[upto - 1].sequence)
                for name, upto in small_runs.items()
            ],
            now,
        )
        Follow.objects.bulk_create(
            (Follow(user_id=user_ids[name], show=small) for name in small_runs),
            batch_size=5000,
            ignore_conflicts=True,
        )
    say(f"{total} watches")
    # Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) keep in production;
    # on PostgreSQL the visibility map too, without which no query reads an index alone.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    say("analysed")
    return {
        "seconds": time.monotonic() - started,
        "episodes": len(regular),
        "specials": len(specials),
        "recaps": len(episodes),
        "characters": CHARACTERS,
        "states": len(states),
        "notes": len(notes),
        "users": len(usernames),
        "watches": total,
        # name: [episodes in the long show's unbroken run, watched past a gap, in the demo show's]
        "progress": {
            name: [upto, ahead, small_runs[name]] for name, (upto, ahead) in progress.items()
        },
    }


def insert_runs(show: Show, runs: list[tuple[int, int]], now: dt.datetime) -> None:
    """Each (viewer, last sequence) as watches of every regular episode of `show` up to there.

    One INSERT ... SELECT from a table of the runs: bulk_create would take minutes at full size.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_progress (user_id bigint, last_sequence integer)"
        )
        cursor.executemany(
            "INSERT INTO bench_progress (user_id, last_sequence) VALUES (%s, %s)", runs
        )
        cursor.execute(
            f"INSERT INTO {Watch._meta.db_table} (user_id, episode_id, watched_at) "
            f"SELECT p.user_id, e.id, %s FROM bench_progress p JOIN {Episode._meta.db_table} e "
            "ON e.show_id = %s AND e.sequence <= p.last_sequence "
            f"JOIN {Season._meta.db_table} s ON s.id = e.season_id AND s.number > 0",
            [now, show.pk],
        )
        cursor.execute("DROP TABLE bench_progress")


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(1, 4))).title()
