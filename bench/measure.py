"""Step 2 of the benchmark: queries and server time of each page and htmx write, in-process."""

from __future__ import annotations

import logging
import math
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench import BenchError
from bench.data import MID_WATCHED, SLUG, SMALL_SLUG, UP_TO_USERS, create_episodes, episode_at
from bench.viewers import pools
from companion.models import Character, Episode, Follow, Recap, ReviewerNote, Season, Show

# The main pages, in the order the report lists them; bench.serve measures each one's throughput.
PAGE_NAMES = {
    "home": "Home",
    "show": "Show page",
    "episode": "Episode page",
    "season": "A season unfolded (htmx)",
    "cast": "Who's who",
    "character": "A character",
    "story": "Story so far",
    "previously": "Previously on",
    "search": "Search",
}

SEARCH_TERM = "signal"
DEMO_SEARCH_TERM = "Mars"
DEMO_VIEWER = "viewer"  # made by load_demo, safe at 3x10
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def measure(
    requests: int, budget: float, marks: int, viewers: int, progress: dict, sizes: dict[str, int]
) -> dict:
    """Queries per request and server time of each page and htmx write, through Django's test client."""
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
    assert safe.episode == regular[MID_WATCHED - 1], (
        "the mid viewer should be safe up to episode 250"
    )
    assert safe is not None and small_safe is not None
    episode = regular[MID_WATCHED - 6]
    character = (
        Character.objects.filter(show=show).order_by("first_appearance__sequence", "slug").first()
    )
    small_character = (
        Character.objects.filter(show=small).visible_at(small_safe).order_by("slug").first()
    )
    small_episode = episode_at(small, 2, 5)

    fragments = set()  # paths that the show page's htmx requests, answered with a fragment

    def urls(s: Show, e: Episode, c: Character) -> dict:
        season = reverse("season-episodes", args=[s.slug, e.season_number])
        fragments.add(season)
        return {
            "home": reverse("show-list"),
            "show": s.get_absolute_url(),
            "season": season,
            "episode": e.get_absolute_url(),
            "cast": reverse("cast", args=[s.slug]),
            "character": c.get_absolute_url(),
            "story": reverse("story", args=[s.slug]),
            "previously": reverse("previously", args=[s.slug]),
            "search": reverse("search", args=[s.slug])
            + f"?q={SEARCH_TERM if s.slug == SLUG else DEMO_SEARCH_TERM}",
        }

    assert character is not None and small_character is not None
    large_urls, small_urls = (
        urls(show, episode, character),
        urls(small, small_episode, small_character),
    )

    def get(client: Client, path: str):
        response = client.get(path, headers={"HX-Request": "true"} if path in fragments else None)
        # A viewer who has watched nothing has met no one: that character page is a 404.
        if response.status_code != 200 and not (
            client is clients["start"] and response.status_code == 404
        ):
            raise BenchError(f"GET {path} answered {response.status_code}")
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

    mid = clients["mid"]
    pages = []
    for key in PAGE_NAMES:
        path = large_urls[key]
        counts = {}
        for role in ("start", "mid", "end"):
            cache.clear()
            response, info = captured(clients[role], get, path)
            if (
                response.status_code == 200
                and path not in fragments
                and b"Log out" not in response.content
            ):
                raise BenchError(f"{path} was not served to a logged-in viewer")
            counts[role] = info["count"]
        if key != "home":
            cache.clear()
            counts["small"] = captured(mid, get, small_urls[key])[1]["count"]
        response = get(mid, path)
        warm = [captured(mid, get, path)[1] for _ in range(3)]
        warm_times = timed(lambda i, path=path: get(mid, path), requests, budget)
        cold_times = timed(
            lambda i, path=path: get(mid, path),
            max(5, requests // 3),
            budget / 2,
            before=lambda i: cache.clear(),
        )
        slowest_ms, slowest_sql = slowest_query(warm)
        page = {
            "key": key,
            "name": PAGE_NAMES[key],
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
        print(
            f"  {page['name']:15} median {page['median_ms']:8.1f} ms  p95 {page['p95_ms']:8.1f} ms  "
            f"queries {counts}  (n={page['n']})",
            flush=True,
        )

    # htmx writes, as the show page sends them. Each viewer marks episodes it has not watched, then
    # unmarks them, round after round until `marks` marks are timed, so it ends as it began: the
    # half-way viewer of the long show (S13E1 on) and the demo viewer of the demo show (season 4).
    # "Up to here" uses a fresh viewer (safe up to 8x25) each time.
    demo_user = User.objects.get(username=DEMO_VIEWER)
    demo = Client()
    demo.force_login(demo_user, backend=MODEL_BACKEND)
    demo_safe = small.safe_point_for(demo_user)
    assert demo_safe is not None and demo_safe.short_label == "S3E10", demo_safe
    small_ahead = list(small.episodes.regular().after(demo_safe).order_by("sequence"))
    ahead = regular[MID_WATCHED + 50 :]

    def post(client: Client, path: str, **kwargs):
        response = client.post(path, headers={"HX-Request": "true"}, **kwargs)
        if response.status_code != 200:
            raise BenchError(f"POST {path} answered {response.status_code}")
        return response

    def watch_url(e: Episode, action: str) -> str:
        return reverse(action, args=[e.show.slug, e.season_number, e.number])

    def marks_of(client: Client, episodes: list[Episode]) -> tuple[list, list, int, int]:
        """(mark times, unmark times, queries of a mark, of an unmark) over rounds of these episodes."""
        _, info = captured(client, post, watch_url(episodes[-1], "episode-watch"))
        _, undo = captured(client, post, watch_url(episodes[-1], "episode-unwatch"))
        watched: list[tuple[float, float]] = []
        unwatched: list[tuple[float, float]] = []
        began = time.perf_counter()
        while len(watched) < marks and time.perf_counter() - began < 6 * budget:
            batch = episodes[: marks - len(watched)]

            def send(action: str, batch=batch):
                return lambda i: post(client, watch_url(batch[i], action))

            watched += timed(send("episode-watch"), len(batch), math.inf)
            unwatched += timed(send("episode-unwatch"), len(batch), math.inf)
        return watched, unwatched, info["count"], undo["count"]

    for e in ahead + small_ahead:
        e.show = small if e.show_id == small.pk else show
    posts = []
    for slug, client, episodes in ((SLUG, mid, ahead), (SMALL_SLUG, demo, small_ahead)):
        title = show.title if slug == SLUG else small.title
        watched, unwatched, n_mark, n_unmark = marks_of(client, episodes)
        first = episodes[0]
        posts += [
            {
                "key": "watch" if slug == SLUG else "watch-demo",
                "show": title,
                "name": "Mark watched (htmx)",
                "path": watch_url(first, "episode-watch"),
                "queries": n_mark,
                **summary(watched),
            },
            {
                "key": "unwatch" if slug == SLUG else "unwatch-demo",
                "show": title,
                "name": "Unmark watched (htmx)",
                "path": watch_url(first, "episode-unwatch"),
                "queries": n_unmark,
                **summary(unwatched),
            },
        ]
    n_writes = min(requests, UP_TO_USERS - 1)
    up_to_clients = []
    for i in range(n_writes + 1):
        client = Client()
        client.force_login(User.objects.get(username=f"bench-upto-{i:03d}"), backend=MODEL_BACKEND)
        up_to_clients.append(client)
    target = regular[259]
    target.show = show
    up_to = watch_url(target, "episode-watch-up-to")
    _, info = captured(up_to_clients[0], post, up_to)
    up_to_times = timed(lambda i: post(up_to_clients[i + 1], up_to), n_writes, budget)
    posts.append(
        {
            "key": "up-to",
            "show": show.title,
            "name": f"Watched all up to {target.short_label} (htmx, +60 episodes)",
            "path": up_to,
            "queries": info["count"],
            **summary(up_to_times),
        }
    )
    for p in posts:
        print(
            f"  {p['show'][:8]} {p['name'][:30]:30} median {p['median_ms']:8.1f} ms  "
            f"p95 {p['p95_ms']:8.1f} ms  queries {p['queries']}  (n={p['n']})",
            flush=True,
        )

    # Does the shows list grow with the number of shows? Count it again with ten more small shows.
    shows_before = Show.objects.count()
    extra = []
    for i in range(10):
        s = Show.objects.create(title=f"Filler {i}", slug=f"filler-{i}")
        season = Season.objects.create(show=s, number=1)
        create_episodes(s, [(season, n, {}) for n in (1, 2, 3)])
        extra.append(s)
    # The home page lists the shows a viewer follows.
    Follow.objects.follow(user=mid_user, shows=extra)
    cache.clear()
    list_growth = {
        "shows": shows_before,
        "queries": pages[0]["queries"]["mid"],
        "more_shows": Show.objects.count(),
        "more_queries": captured(mid, get, large_urls["home"])[1]["count"],
    }
    for s in extra:
        s.delete()

    visible = {
        "recaps": Recap.objects.for_show(show).visible_at(safe).count(),
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
        "viewers": pools(progress, sizes),
        # Three groups of `viewers` different viewers each, for the memory check.
        "memory_sessions": sessions_of([f"viewer{i:05d}" for i in range(3 * viewers)], User),
        "db_version": db_version,
    }


def session_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def sessions_of(usernames: list[str], User) -> list[str]:
    """A session key for each of these viewers, logged in as the site logs them in."""
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    keys = []
    for name in usernames:
        client = Client()
        client.force_login(users[name], backend=MODEL_BACKEND)
        keys.append(session_of(client))
    return keys


def summary(times: list[tuple[float, float]]) -> dict:
    ordered = sorted(wall for wall, _ in times)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[math.ceil(0.95 * len(ordered)) - 1],
        "cpu_ms": statistics.median(cpu for _, cpu in times),
        "n": len(ordered),
    }
