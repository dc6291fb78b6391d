"""`make bench`: build a large synthetic show in a throwaway database and measure the site on it.

The parent process never touches a real database. It creates a throwaway one (a temporary SQLite
file, or a `spoilerfree_bench` database beside DATABASE_URL's PostgreSQL one), then runs `migrate`,
`bench --step build` and `bench --step measure` as child processes with DATABASE_URL pointing at it
and the production settings (DJANGO_DEBUG=0), serves it with gunicorn, drives that with wrk, drops
the throwaway database and writes the results into its own section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import io
import json
import logging
import math
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from itertools import product
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

SLUG = "the-long-watch"
SMALL_SLUG = "for-all-mankind"
SEASONS, EPISODES_PER_SEASON, SPECIALS = 20, 25, 5
CHARACTERS, STATES_PER_CHARACTER = 300, 10
NOTES, USERS = 50_000, 10_000
# The "mid" viewer has watched the first half: 250 of 500 regular episodes, safe up to 10x25.
MID_WATCHED = 250
UP_TO_USERS = 120
SEARCH_TERM = "signal"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BENCH_DATABASE = "spoilerfree_bench"
DOC = settings.BASE_DIR / "docs" / "PERFORMANCE.md"
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGETS = {"page_ms": 25, "watch_ms": 15, "throughput_share": 0.40, "rss_mb": 150}

WORDS = ["signal", "orbit", "launch", "crew", "capsule", "mission", "control", "station", "lunar", "base", "rover", "colony", "engineer", "pilot", "senator", "director", "program", "budget", "rival", "hearing", "launchpad", "reactor", "supply", "ship", "storm", "dust", "crater", "ice", "mine", "strike", "union", "daughter", "son", "marriage", "secret", "letter", "trial", "vote", "deal", "defector", "warning", "failure", "rescue", "countdown", "silence", "radio", "antenna", "telemetry", "fuel", "oxygen", "habitat", "hatch", "airlock", "spacesuit", "helmet", "visor", "training", "simulator", "committee", "press", "briefing", "memo", "promise", "betrayal", "debt", "memory", "garden", "kitchen", "highway", "desert", "ocean", "harbour", "airport"]
FIRST_NAMES = ["Ada", "Ben", "Cleo", "Dev", "Edie", "Finn", "Gale", "Hana", "Ivo", "Jun", "Kara", "Leon", "Mira", "Nils", "Odile", "Pavel", "Quinn", "Rosa", "Sami", "Tova", "Umar", "Vera", "Wes", "Xena", "Yuri", "Zora", "Amos", "Bea", "Cyril", "Dina"]
LAST_NAMES = ["Baldwin", "Stevens", "Poole", "Wilson", "Rosales", "Ellis", "Morozov", "Sato", "Okafor", "Lindqvist", "Haddad", "Moreau", "Novak", "Quint", "Reyes", "Santos", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Young", "Zeller", "Abbott", "Bishop", "Carver", "Dunn", "Ferro", "Gray", "Holt"]
OUTLETS = [
    "The Orbit",
    "Screen Weekly",
    "Night Review",
    "The Dispatch",
    "Telly Times",
    "Couch Critic",
]


class Command(BaseCommand):
    help = (
        "Build a large synthetic show in a throwaway database (SQLite, or PostgreSQL when DATABASE_URL "
        "is set), measure queries, server time and gunicorn throughput, and update docs/PERFORMANCE.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--requests", type=int, default=60, help="Timed requests per page (default 60)."
        )
        parser.add_argument(
            "--budget", type=float, default=15.0, help="Seconds at most per timed page."
        )
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3).")
        parser.add_argument("--wrk-seconds", type=int, default=10, help="Seconds of load per URL.")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Scale users and notes (for a quick try)."
        )
        parser.add_argument("--no-docs", action="store_true", help="Print the results only.")
        parser.add_argument(
            "--keep", action="store_true", help="Keep the throwaway database to look into."
        )
        # Internal: the child processes that run against the throwaway database.
        parser.add_argument("--step", choices=["build", "measure"], help=argparse.SUPPRESS)
        parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)

    def handle(self, *args, step=None, out=None, **options):
        if step == "build":
            return self.write_json(out, build(self.stdout, options["scale"]))
        if step == "measure":
            return self.write_json(
                out, measure(self.stdout, options["requests"], options["budget"])
            )
        return self.orchestrate(options)

    def write_json(self, out: Path, data: dict) -> None:
        out.write_text(json.dumps(data, indent=1))

    # --- The parent process --------------------------------------------------------------------

    def orchestrate(self, options) -> None:
        started, code = time.monotonic(), code_version()
        load = os.getloadavg()[0]
        if load > 0.5:
            self.stdout.write(
                self.style.WARNING(
                    f"The load average is {load:.1f}: other work on this machine will slow the measurements down."
                )
            )
        tmp = Path(tempfile.mkdtemp(prefix="spoilerfree-bench-"))
        vendor, database_url, drop_database = throwaway_database(tmp)
        self.stdout.write(
            f"Benchmarking on {LABELS[vendor]}, throwaway database {redact(database_url)}"
        )
        env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
        env.update(
            DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE="companion.bench_settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,testserver",
            # Plain HTTP on 127.0.0.1: no TLS to redirect to.
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_LOG_LEVEL="ERROR",
            BENCH_STATIC_ROOT=str(tmp / "static"),
        )
        try:
            self.manage(env, "migrate", "--noinput", "-v", "0")
            self.manage(env, "collectstatic", "--noinput", "-v", "0")
            self.manage(
                env,
                "bench",
                "--step",
                "build",
                "--out",
                str(tmp / "build.json"),
                "--scale",
                str(options["scale"]),
            )
            self.manage(
                env,
                "bench",
                "--step",
                "measure",
                "--out",
                str(tmp / "measure.json"),
                "--requests",
                str(options["requests"]),
                "--budget",
                str(options["budget"]),
            )
            load_measured = os.getloadavg()[0]
            built = json.loads((tmp / "build.json").read_text())
            measured = json.loads((tmp / "measure.json").read_text())
            served = self.serve_and_load(env, measured, options["workers"], options["wrk_seconds"])
        finally:
            if options["keep"]:
                variables = (
                    "DATABASE_URL",
                    "DJANGO_SETTINGS_MODULE",
                    "DJANGO_DEBUG",
                    "DJANGO_SECRET_KEY",
                    "DJANGO_ALLOWED_HOSTS",
                    "DJANGO_SECURE_SSL_REDIRECT",
                    "BENCH_STATIC_ROOT",
                )
                self.stdout.write(
                    "Kept the throwaway database; to use it:\n  "
                    + " ".join(f"{name}={env[name]}" for name in variables)
                )
            else:
                drop_database()
                shutil.rmtree(tmp, ignore_errors=True)
        loads = {
            "start": load,
            "measure": load_measured,
            "served": served["load"] if served else None,
        }
        if code_version() != code:
            code += f" (the code changed during the run: {code_version()} at the end)"
        report = render_report(
            vendor, built, measured, served, time.monotonic() - started, loads, code
        )
        self.stdout.write("\n" + report)
        if options["no_docs"] or options["scale"] != 1.0:
            self.stdout.write("docs/PERFORMANCE.md left unchanged (--no-docs or --scale).")
        else:
            write_docs(vendor, report)
            self.stdout.write(self.style.SUCCESS(f"Wrote the {LABELS[vendor]} section of {DOC}"))

    def manage(self, env: dict, *args: str) -> None:
        self.stdout.flush()
        subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
            timeout=900,
        )

    def serve_and_load(self, env: dict, measured: dict, workers: int, seconds: int) -> dict | None:
        """Requests per second under gunicorn for the trivial view and two pages, and worker memory."""
        wrk = shutil.which("wrk")
        if wrk is None:
            self.stdout.write(
                self.style.WARNING(
                    "wrk is not installed, so throughput is not measured. On Debian: apt-get install -y wrk"
                )
            )
            return None
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn),
            "companion.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--chdir",
            str(settings.BASE_DIR),
            "--env",
            "DJANGO_SETTINGS_MODULE=companion.bench_settings",
        ]
        self.stdout.write(f"Starting gunicorn with {workers} workers on {base}")
        self.stdout.flush()
        server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
        cookie = f"{settings.SESSION_COOKIE_NAME}={measured['session_key']}"
        targets = [
            ("trivial view (floor)", "/bench/ok/"),
            ("trivial view reading the session and user", "/bench/ok-user/"),
            ("show page", measured["urls"]["show"]),
            ("episode page", measured["urls"]["episode"]),
        ]
        try:
            wait_until_up(base + "/bench/ok/", server)
            check_logged_in(
                base + "/bench/ok-user/", cookie, sign=f"ok {measured['user_id']}".encode()
            )
            for _, path in targets[2:]:
                check_logged_in(base + path, cookie)
            runs, load = [], os.getloadavg()[0]
            for label, path in targets:
                run_wrk(wrk, base + path, cookie, seconds=2)  # warm every worker up
                result = run_wrk(wrk, base + path, cookie, seconds=seconds)
                runs.append({"label": label, "path": path, **result})
                self.stdout.write(
                    f"  {label:42} {result['rps']:8.1f} requests/s  p50 {result['p50_ms']:.1f} ms"
                )
            memory = process_memory(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        return {
            "workers": workers,
            "seconds": seconds,
            "runs": runs,
            "memory": memory,
            "load": load,
            "gunicorn": importlib.metadata.version("gunicorn"),
            "wrk": wrk_version(wrk),
        }


# --- The throwaway database ---------------------------------------------------------------------


def throwaway_database(tmp: Path):
    """(vendor, DATABASE_URL of a new empty database, a function that drops it)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        return "sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise CommandError(f"bench runs on SQLite or PostgreSQL, not {parts.scheme}.")
    if parts.path.strip("/") == BENCH_DATABASE:
        raise CommandError(
            f"DATABASE_URL must name a database other than {BENCH_DATABASE}, which bench drops."
        )

    def drop():
        # Connected to DATABASE_URL's own database, in autocommit, as CREATE/DROP DATABASE need.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        connection.close()

    drop()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    connection.close()
    return "postgresql", urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")), drop


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


# --- Step 1: build the data ---------------------------------------------------------------------


def build(stdout, scale: float) -> dict:
    """Create the large show, the demo show, users and their progress with bulk inserts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from companion.models import (
        SEASON_STRIDE,
        Character,
        CharacterState,
        Episode,
        Recap,
        ReviewerNote,
        Season,
        Show,
        Watch,
    )

    rng = random.Random(7)
    started = time.monotonic()
    n_users, n_notes = max(UP_TO_USERS + 10, int(USERS * scale)), int(NOTES * scale)
    sentences = [sentence(rng) for _ in range(3000)]

    def text(n: int) -> str:
        return " ".join(rng.choices(sentences, k=n))

    def say(message: str) -> None:
        stdout.write(f"  [{time.monotonic() - started:6.1f} s] {message}")
        stdout.flush()

    say("importing the demo show (For All Mankind)")
    call_command(
        "import_show",
        str(settings.BASE_DIR / "fixtures" / "for-all-mankind.yaml"),
        stdout=io.StringIO(),
    )
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
        episodes = []
        for number in range(SEASONS + 1):
            count = SPECIALS if number == 0 else EPISODES_PER_SEASON
            for episode in range(1, count + 1):
                episodes.append(
                    Episode(
                        show=show,
                        season=seasons[number],
                        number=episode,
                        title=title(rng),
                        synopsis=text(2),
                        air_date=premiere + dt.timedelta(days=7 * len(episodes)),
                        # Episode.save() derives these; bulk_create does not call it.
                        sequence=number * SEASON_STRIDE + episode,
                    )
                )
        Episode.objects.bulk_create(episodes)
        episodes = list(show.episodes.order_by("sequence"))
        regular = [e for e in episodes if e.sequence >= SEASON_STRIDE]
        specials = [e for e in episodes if e.sequence < SEASON_STRIDE]
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
            for name, first in zip(names, firsts)
        )
        characters = {c.slug: c for c in show.characters.all()}
        statuses = ["alive"] * 6 + ["missing", "imprisoned", "unknown", "dead"]
        states = []
        for name, first in zip(names, firsts):
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
                if rng.random() < 0.2:  # watched ahead, past a gap
                    extra += [
                        (user_id, pk)
                        for pk in regular_ids[upto + 1 : upto + 1 + rng.randint(1, 20)]
                    ]
                if rng.random() < 0.3:
                    extra += [
                        (user_id, pk)
                        for pk in rng.sample(special_ids, rng.randint(1, len(special_ids)))
                    ]
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
                "ON e.show_id = %s AND e.sequence >= %s AND e.sequence <= p.last_sequence",
                [now, show.pk, SEASON_STRIDE],
            )
            cursor.execute("DROP TABLE bench_progress")
        Watch.objects.bulk_create(
            (Watch(user_id=user_id, episode_id=pk, watched_at=now) for user_id, pk in extra),
            batch_size=5000,
        )
        total = Watch.objects.filter(episode__show=show).count()
        small = Show.objects.get(slug=SMALL_SLUG)
        Watch.objects.mark_watched_up_to(
            user=User.objects.get(username="bench-mid"), episode=small.episodes.get(sequence=3010)
        )
    say(f"{total} watches")
    # Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) keep in production.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
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
    }


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(1, 4))).title()


# --- Step 2: measure in-process -----------------------------------------------------------------


def measure(stdout, requests: int, budget: float) -> dict:
    """Queries per request and server time of each page and htmx write, through Django's test client."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from companion.models import Character, Episode, ReviewerNote, Season, Show

    # The viewer who has watched nothing gets a 404 from the character page, as designed; do not log it.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    User = get_user_model()
    show, small = Show.objects.get(slug=SLUG), Show.objects.get(slug=SMALL_SLUG)
    clients = {}
    for role in ("start", "mid", "end"):
        clients[role] = Client()
        clients[role].force_login(User.objects.get(username=f"bench-{role}"), backend=MODEL_BACKEND)
    mid_user = User.objects.get(username="bench-mid")
    regular = list(show.episodes.regular().order_by("sequence"))
    safe, small_safe = show.safe_point_for(mid_user), small.safe_point_for(mid_user)
    assert safe == regular[MID_WATCHED - 1], "the mid viewer should be safe up to episode 250"
    episode = regular[MID_WATCHED - 6]
    character = (
        Character.objects.filter(show=show).order_by("first_appearance__sequence", "slug").first()
    )
    small_character = (
        Character.objects.filter(show=small).visible_at(small_safe).order_by("slug").first()
    )
    small_episode = small.episodes.get(sequence=2005)

    fragments = set()  # paths that the show page's htmx requests, answered with a fragment

    def urls(s: Show, e: Episode, c: Character) -> dict:
        season = reverse("season-episodes", args=[s.slug, e.season_number])
        fragments.add(season)
        return {
            "list": reverse("show-list"),
            "show": s.get_absolute_url(),
            "season": season,
            "episode": e.get_absolute_url(),
            "cast": reverse("cast", args=[s.slug]),
            "character": c.get_absolute_url(),
            "story": reverse("story", args=[s.slug]),
            "search": reverse("search", args=[s.slug]) + f"?q={SEARCH_TERM}",
        }

    large_urls, small_urls = (
        urls(show, episode, character),
        urls(small, small_episode, small_character),
    )
    names = {
        "list": "Shows list",
        "show": "Show page",
        "season": "A season unfolded (htmx)",
        "episode": "Episode page",
        "cast": "Cast",
        "character": "Character page",
        "story": "Story so far",
        "search": "Search",
    }

    def get(client: Client, path: str):
        response = client.get(path, headers={"HX-Request": "true"} if path in fragments else None)
        # A viewer who has watched nothing has met no one: that character page is a 404.
        if response.status_code != 200 and not (
            client is clients["start"] and response.status_code == 404
        ):
            raise CommandError(f"GET {path} answered {response.status_code}")
        return response

    def captured(client: Client, send, path: str, **kwargs):
        # CaptureQueriesContext counts; its times are rounded to the millisecond, so time each query here.
        timings = []

        def timer(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append((1000 * (time.perf_counter() - start), sql))

        with CaptureQueriesContext(connection) as context, connection.execute_wrapper(timer):
            response = send(client, path, **kwargs)
        return response, {
            "count": len(context.captured_queries),
            "sql_ms": sum(t for t, _ in timings),
            "timings": timings,
        }

    def slowest_query(captures: list[dict]) -> tuple[float, str]:
        """The query that is slowest in its best run: one slow run of a fast query is the machine, not the query."""
        runs = [c["timings"] for c in captures]
        if len({len(r) for r in runs}) != 1:
            runs = runs[-1:]
        best = [(min(run[i][0] for run in runs), runs[0][i][1]) for i in range(len(runs[0]))]
        return max(best, default=(0.0, ""))

    def timed(send, n: int, limit: float, before=None) -> list[tuple[float, float]]:
        """(wall, CPU) milliseconds of up to n requests; CPU time is this process's, so other load barely moves it."""
        times, began = [], time.perf_counter()
        for i in range(n):
            if before:
                before(i)
            start, cpu = time.perf_counter(), time.process_time()
            send(i)
            times.append((1000 * (time.perf_counter() - start), 1000 * (time.process_time() - cpu)))
            if time.perf_counter() - began > limit and len(times) >= 5:
                break
        return times

    pages = []
    for key, path in large_urls.items():
        counts = {}
        for role in ("start", "mid", "end"):
            cache.clear()
            response, info = captured(clients[role], get, path)
            if (
                response.status_code == 200
                and path not in fragments
                and b"Log out" not in response.content
            ):
                raise CommandError(f"{path} was not served to a logged-in viewer")
            counts[role] = info["count"]
        if key != "list":
            cache.clear()
            counts["small"] = captured(clients["mid"], get, small_urls[key])[1]["count"]
        mid = clients["mid"]
        response = get(mid, path)
        warm = [captured(mid, get, path)[1] for _ in range(3)]
        warm_times = timed(lambda i: get(mid, path), requests, budget)
        cold_times = timed(
            lambda i: get(mid, path),
            max(5, requests // 3),
            budget / 2,
            before=lambda i: cache.clear(),
        )
        slowest_ms, slowest_sql = slowest_query(warm)
        page = {
            "key": key,
            "name": names[key],
            "path": path,
            "queries": counts,
            "warm_queries": warm[-1]["count"],
            "sql_ms": statistics.median(q["sql_ms"] for q in warm),
            "kb": len(response.content) / 1024,
            "slowest_ms": slowest_ms,
            "slowest_sql": slowest_sql[:600],
            **summary(warm_times),
            "cold_median_ms": summary(cold_times)["median_ms"],
            "cold_n": len(cold_times),
        }
        pages.append(page)
        stdout.write(
            f"  {page['name']:15} median {page['median_ms']:8.1f} ms  p95 {page['p95_ms']:8.1f} ms  "
            f"queries {counts}  (n={page['n']})"
        )
        stdout.flush()

    # htmx writes, as the show page sends them. Watch then unwatch episodes after the mid viewer's gap,
    # so the viewer ends as it began; "up to here" uses a fresh viewer (safe up to 8x25) each time.
    hx = {"headers": {"HX-Request": "true"}}
    mid = clients["mid"]
    ahead = regular[MID_WATCHED + 50 :]

    def post(client: Client, path: str, **kwargs):
        response = client.post(path, **hx, **kwargs)
        if response.status_code != 200:
            raise CommandError(f"POST {path} answered {response.status_code}")
        return response

    def watch_url(e: Episode, action: str) -> str:
        return reverse(action, args=[SLUG, e.season_number, e.number])

    n_writes = min(requests, len(ahead) - 1, UP_TO_USERS - 1)
    posts = []
    _, info = captured(mid, post, watch_url(ahead[-1], "episode-watch"))
    _, undo = captured(mid, post, watch_url(ahead[-1], "episode-unwatch"))
    watch_times = timed(lambda i: post(mid, watch_url(ahead[i], "episode-watch")), n_writes, budget)
    unwatch_times = timed(
        lambda i: post(mid, watch_url(ahead[i], "episode-unwatch")), len(watch_times), budget * 2
    )
    posts.append(
        {
            "key": "watch",
            "name": "Mark watched (htmx)",
            "path": watch_url(ahead[0], "episode-watch"),
            "queries": info["count"],
            **summary(watch_times),
        }
    )
    posts.append(
        {
            "key": "unwatch",
            "name": "Unmark watched (htmx)",
            "path": watch_url(ahead[0], "episode-unwatch"),
            "queries": undo["count"],
            **summary(unwatch_times),
        }
    )
    up_to_clients = []
    for i in range(n_writes + 1):
        client = Client()
        client.force_login(User.objects.get(username=f"bench-upto-{i:03d}"), backend=MODEL_BACKEND)
        up_to_clients.append(client)
    target = regular[259]
    up_to = watch_url(target, "episode-watch-up-to")
    _, info = captured(up_to_clients[0], post, up_to)
    up_to_times = timed(lambda i: post(up_to_clients[i + 1], up_to), n_writes, budget)
    posts.append(
        {
            "key": "up-to",
            "name": f"Watched all up to {target.short_label} (htmx, +60 episodes)",
            "path": up_to,
            "queries": info["count"],
            **summary(up_to_times),
        }
    )
    for p in posts:
        stdout.write(
            f"  {p['name'][:30]:30} median {p['median_ms']:8.1f} ms  p95 {p['p95_ms']:8.1f} ms  "
            f"queries {p['queries']}  (n={p['n']})"
        )

    # Does the shows list grow with the number of shows? Count it again with ten more small shows.
    shows_before = Show.objects.count()
    extra = []
    for i in range(10):
        s = Show.objects.create(title=f"Filler {i}", slug=f"filler-{i}")
        season = Season.objects.create(show=s, number=1)
        Episode.objects.bulk_create(
            Episode(show=s, season=season, number=n, sequence=1000 + n) for n in (1, 2, 3)
        )
        extra.append(s)
    cache.clear()
    list_growth = {
        "shows": shows_before,
        "queries": pages[0]["queries"]["mid"],
        "more_shows": Show.objects.count(),
        "more_queries": captured(mid, get, large_urls["list"])[1]["count"],
    }
    for s in extra:
        s.delete()

    visible = {
        "recaps": show.episodes.filter(sequence__lte=safe.sequence).count(),
        "characters": Character.objects.filter(show=show).visible_at(safe).count(),
        "notes": ReviewerNote.objects.for_show(show).visible_at(safe).count(),
        "notes_on_episode": ReviewerNote.objects.visible_at(safe).filter(episode=episode).count(),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "select sqlite_version()" if connection.vendor == "sqlite" else "show server_version"
        )
        db_version = cursor.fetchone()[0]
    return {
        "pages": pages,
        "posts": posts,
        "list_growth": list_growth,
        "visible": visible,
        "safe_point": safe.short_label,
        "small_safe_point": small_safe.short_label,
        "urls": {"show": large_urls["show"], "episode": large_urls["episode"]},
        "session_key": mid.cookies[settings.SESSION_COOKIE_NAME].value,
        "user_id": mid_user.pk,
        "db_version": db_version,
    }


def summary(times: list[tuple[float, float]]) -> dict:
    ordered = sorted(wall for wall, _ in times)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[math.ceil(0.95 * len(ordered)) - 1],
        "cpu_ms": statistics.median(cpu for _, cpu in times),
        "n": len(ordered),
    }


# --- Step 3: gunicorn and wrk -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise CommandError(f"gunicorn did not answer {url} within {timeout} s")


def check_logged_in(url: str, cookie: str, sign: bytes = b"Log out") -> None:
    """wrk must load the page a viewer sees, not a redirect to the login page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200 or sign not in response.read():
            raise CommandError(f"{url} was not served to the logged-in benchmark viewer")


def run_wrk(wrk: str, url: str, cookie: str, *, seconds: int) -> dict:
    command = [
        wrk,
        "-t2",
        "-c8",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: duration_ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latency.get("50", 0.0),
        "p99_ms": latency.get("99", 0.0),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "timeouts": int(errors.group(1)) if errors else 0,
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def duration_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk_version(wrk: str) -> str:
    # `wrk -v` prints its version and usage, and exits non-zero.
    output = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout
    match = re.search(r"wrk (\S+)", output)
    return match.group(1) if match else "?"


def process_memory(master: int) -> dict:
    """Resident memory (VmRSS, MB) of gunicorn's master and of each of its workers."""
    workers = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            workers.append(rss_mb(int(entry)))
    return {"master_mb": rss_mb(master), "workers_mb": sorted(w for w in workers if w is not None)}


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


# --- Step 4: the report -------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = (
            re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
            .group(1)
            .strip()
        )
        kb = int(
            re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M).group(1)
        )
        memory = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, AttributeError):
        memory = "unknown memory"
    return f"{os.cpu_count()} CPUs ({cpu}), {memory}, {platform.system()} {platform.release()}"


def code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "companion", "accounts", "templates"],
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def render_report(
    vendor: str,
    built: dict,
    measured: dict,
    served: dict | None,
    seconds: float,
    loads: dict,
    code: str,
) -> str:
    label = LABELS[vendor]
    pages, posts = measured["pages"], measured["posts"]
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {code} · {label} "
        f"{measured['db_version']} · Python {platform.python_version()} · Django {django.get_version()}"
        + (f" · gunicorn {served['gunicorn']} · wrk {served['wrk']}" if served else ""),
        f"Machine: {machine()}. The whole run took {seconds:.0f} s (building the data {built['seconds']:.0f} s). "
        f"Load average (1 min) before the run {loads['start']:.2f}, after the in-process measurements "
        f"{loads['measure']:.2f}"
        + (f", before wrk {loads['served']:.2f}" if served else "")
        + " (the benchmark itself keeps one core busy in-process and both during wrk; load beyond that is "
        "other work on the machine, and slows every number down).",
        "",
        f"Data: *The Long Watch*, {built['episodes']} episodes ({SEASONS} seasons × {EPISODES_PER_SEASON}) "
        f"and {built['specials']} specials, {built['recaps']} recaps, {built['characters']} characters with "
        f"{built['states']:,} states, {built['notes']:,} reviewer notes; {built['users']:,} users with "
        f"{built['watches']:,} watches; *For All Mankind* alongside as the small show.",
        f"The viewer is safe up to {measured['safe_point']} (half the show), which reveals "
        f"{measured['visible']['recaps']} recaps, {measured['visible']['characters']} characters and "
        f"{measured['visible']['notes']:,} notes ({measured['visible']['notes_on_episode']} on the episode page's "
        f"episode).",
        "",
        "**Pages** (in-process, Django test client, logged in; times in ms)",
        "",
        "| page | median | p95 | CPU | median, cache cleared | SQL | queries: start · mid · end · small show | KB | n |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for p in pages:
        q = p["queries"]
        counts = f"{q['start']} · {q['mid']} · {q['end']} · {q.get('small', '–')}"
        if p["warm_queries"] != q["mid"]:
            counts += f" (warm {p['warm_queries']})"
        lines.append(
            f"| {p['name']} `{p['path']}` | {ms(p['median_ms'])} | {ms(p['p95_ms'])} | {ms(p['cpu_ms'])} | "
            f"{ms(p['cold_median_ms'])} | "
            f"{ms(p['sql_ms'])} | {counts} | {p['kb']:,.0f} | {p['n']} |"
        )
    growth = measured["list_growth"]
    lines += [
        "",
        f"Queries: *start* has watched nothing, *mid* is safe up to {measured['safe_point']}, *end* has watched "
        f"everything; *small show* is the same page of For All Mankind for a viewer safe up to "
        f"{measured['small_safe_point']}. The shows list makes {growth['queries']} queries with {growth['shows']} "
        f"shows and {growth['more_queries']} with {growth['more_shows']}. *CPU* is the median CPU time of the "
        "benchmark's own process, which other load on the machine barely changes (on PostgreSQL it leaves out "
        "the database server's share). *SQL* is the time spent in the page's "
        "`cursor.execute` calls (warm); fetching the rows comes after it and counts as Python. Most of each "
        "median is Python: building objects and rendering templates.",
        "",
        "**htmx writes** (in-process, `HX-Request: true`; times in ms)",
        "",
        "| request | median | p95 | CPU | queries | n |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {p['name']} | {ms(p['median_ms'])} | {ms(p['p95_ms'])} | {ms(p['cpu_ms'])} | {p['queries']} | {p['n']} |"
        for p in posts
    ]
    if served:
        floor = served["runs"][0]["rps"]
        lines += [
            "",
            f"**Under gunicorn** ({served['workers']} sync workers on 127.0.0.1; wrk with 2 threads and 8 "
            f"connections for {served['seconds']} s per URL, on the same machine, logged in by session cookie)",
            "",
            "| URL | requests/s | share of floor | latency p50 ms | p99 ms | requests | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for run in served["runs"]:
            errors = run["non_2xx"] + run["timeouts"]
            lines.append(
                f"| {run['label']} `{run['path']}` | {run['rps']:,.1f} | {run['rps'] / floor:.0%} | "
                f"{ms(run['p50_ms'])} | {ms(run['p99_ms'])} | {run['requests']:,} | {errors} |"
            )
        memory = served["memory"]
        lines += [
            "",
            "Resident memory after the load: workers "
            + ", ".join(f"{m:.0f} MB" for m in memory["workers_mb"])
            + f"; master {memory['master_mb']:.0f} MB.",
        ]
    else:
        lines += ["", "*Throughput not measured: wrk is not installed (`apt-get install -y wrk`).*"]

    slow_pages = [p for p in pages if p["median_ms"] >= TARGETS["page_ms"]]
    watch = next(p for p in posts if p["key"] == "watch")
    grown = [
        p["name"]
        for p in pages
        if p["queries"]["end"] > p["queries"]["mid"]
        or p["queries"]["mid"] > p["queries"].get("small", p["queries"]["mid"])
    ] + (["Shows list (per show)"] if growth["more_queries"] > growth["queries"] else [])
    checks = [
        (
            f"median < {TARGETS['page_ms']} ms on every page",
            "all pages"
            if not slow_pages
            else "over: " + ", ".join(f"{p['name']} {ms(p['median_ms'])} ms" for p in slow_pages),
            not slow_pages,
        ),
        (
            f"mark watched median < {TARGETS['watch_ms']} ms",
            f"{ms(watch['median_ms'])} ms",
            watch["median_ms"] < TARGETS["watch_ms"],
        ),
    ]
    if served:
        show_run = next(run for run in served["runs"] if run["label"] == "show page")
        share = show_run["rps"] / served["runs"][0]["rps"]
        biggest = max(served["memory"]["workers_mb"], default=0)
        checks += [
            (
                f"show page ≥ {TARGETS['throughput_share']:.0%} of the trivial view's requests/s",
                f"{share:.0%}",
                share >= TARGETS["throughput_share"],
            ),
            (
                f"each gunicorn worker < {TARGETS['rss_mb']} MB resident",
                f"largest {biggest:.0f} MB",
                biggest < TARGETS["rss_mb"],
            ),
        ]
    checks.append(
        (
            "queries per page do not grow with content or progress",
            "no growth" if not grown else "grow: " + ", ".join(grown),
            not grown,
        )
    )
    lines += [
        "",
        "**Against the targets**",
        "",
        "| target | measured | met |",
        "| --- | --- | :-: |",
    ]
    lines += [f"| {target} | {result} | {mark(ok)} |" for target, result, ok in checks]
    lines += [
        "",
        "<details><summary>Slowest query of each page (mid viewer, best of three warm runs)</summary>",
        "",
    ]
    for p in pages:
        sql = " ".join(p["slowest_sql"].split())[:400]
        lines += [f"- {p['name']}: {ms(p['slowest_ms'])} ms — `{sql}`"]
    lines += ["", "</details>"]
    return "\n".join(lines)


def write_docs(vendor: str, report: str) -> None:
    """Replace this database's marked section of docs/PERFORMANCE.md, leaving the rest as written."""
    start, end = f"<!-- bench:{vendor}:start -->", f"<!-- bench:{vendor}:end -->"
    block = f"{start}\n{report.strip()}\n{end}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {LABELS[vendor]}\n\n{block}\n"
    DOC.write_text(text, encoding="utf-8")
