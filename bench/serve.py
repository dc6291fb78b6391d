"""Step 3 of the benchmark: requests per second under gunicorn, driven by wrk, and worker memory."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.color import color_style

from bench import BenchError
from bench.measure import PAGE_NAMES

style = color_style()


WRK_THREADS, WRK_CONNECTIONS = 2, 16
REPLAY = Path(__file__).with_name("replay.lua")
TRIVIAL = "/bench/ok-user/"
# The pages whose throughput the memory check replays, as the viewers of the long show see them.
MEMORY_PAGES = ("home", "show", "episode", "cast", "story", "previously")
# The loop: mark the next episode, then read its episode page, the show page and Who's who.
LOOP = ("mark", "episode", "show", "cast")


class Run:
    """One wrk run over a request list; `positions` carries on where the last run stopped."""

    def __init__(self, wrk: str, base: str, folder: Path, name: str, lists: list[list[str]]):
        self.wrk, self.base, self.prefix = wrk, base, folder / name
        self.positions = [0] * WRK_THREADS
        self.wraps = 0
        for thread, lines in enumerate(lists):
            Path(f"{self.prefix}.{thread}").write_text("\n".join(lines) + "\n")

    def __call__(self, seconds: float) -> dict:
        result = run_wrk(self.wrk, self.base, self.prefix, self.positions, seconds)
        self.positions = result["positions"]
        self.wraps += result["wraps"]
        return result


def serve_and_load(
    env: dict,
    measured: dict,
    folder: Path,
    *,
    workers: int,
    seconds: float,
    rounds: int,
    memory_requests: int,
) -> dict | None:
    """Each page's requests/s on a miss, in the loop and on a hit, as a share of the trivial view."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            style.WARNING(
                "wrk is not installed, so throughput is not measured. On Debian: apt-get install -y wrk"
            )
        )
        return None
    pools = measured["viewers"]
    groups = pools["groups"]
    load_before = os.getloadavg()
    shows = []
    with gunicorn(env, workers) as (base, server):
        check_viewers(base, groups, pools["shows"])
        run_wrk(wrk, base, write_lists(folder, "warm", trivial(groups["miss"])), [0, 0], 2)
        for show in pools["shows"]:
            shows.append(
                measure_show(wrk, base, folder, groups, show, seconds=seconds, rounds=rounds)
            )
        after_load = process_memory(server.pid)
    load_after = os.getloadavg()
    first = groups["miss"][0]["shows"][pools["shows"][-1]["slug"]]["urls"]
    paths = [first[key] for key in MEMORY_PAGES]
    many = measured["memory_sessions"]
    size = len(many) // 3
    memory_groups = [many[i * size : (i + 1) * size] for i in range(3)]
    viewers = memory_after(env, workers, paths, memory_groups, memory_requests)
    return {
        "workers": workers,
        "threads": WRK_THREADS,
        "connections": WRK_CONNECTIONS,
        "seconds": seconds,
        "rounds": rounds,
        "pool": {name: len(group) for name, group in groups.items()},
        "shows": shows,
        "memory": {"after_load": after_load, "viewers": viewers, "pages": list(MEMORY_PAGES)},
        "load": {"before": load_before[0], "after": load_after[0]},
        "gunicorn": package_version("gunicorn"),
        "wrk": wrk_version(wrk),
    }


@contextmanager
def gunicorn(env: dict, workers: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """A gunicorn with `workers` sync workers on a free port of 127.0.0.1, stopped on leaving."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--chdir",
        str(settings.BASE_DIR),
        "--env",
        "DJANGO_SETTINGS_MODULE=bench.settings",
    ]
    print(f"Starting gunicorn with {workers} sync workers on {base}", flush=True)
    server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    try:
        wait_until_up(base + "/bench/ok/", server)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def measure_show(
    wrk: str, base: str, folder: Path, groups: dict, show: dict, *, seconds: float, rounds: int
) -> dict:
    slug = show["slug"]
    print(f"Throughput on {show['title']}:", flush=True)
    reference = Run(wrk, base, folder, f"{slug}-trivial", split(trivial(groups["miss"])))
    pages = []
    for key in PAGE_NAMES:
        hits = Run(wrk, base, folder, f"{slug}-{key}-hit", split(reads(groups["hit"], slug, key)))
        # The hit group's first looks, which also load this page's code, templates and shared
        # fragments: what follows from them are repeats; the pool's reads are all first looks.
        hits(1)
        hit = interleaved(reference, hits, seconds=seconds, rounds=rounds)
        misses = Run(
            wrk, base, folder, f"{slug}-{key}-miss", split(reads(groups["miss"], slug, key))
        )
        miss = interleaved(reference, misses, seconds=seconds, rounds=rounds)
        page = {
            "key": key,
            "name": PAGE_NAMES[key],
            "path": groups["miss"][0]["shows"][slug]["urls"][key],
            "miss": miss | {"repeated": misses.wraps},
            "hit": hit,
        }
        pages.append(page)
        print(
            f"  {page['name']:26} miss {miss['share']:.3f} ({miss['rps']:7.1f}/s, rounds "
            + ", ".join(f"{r['share']:.3f}" for r in miss["rounds"])
            + f")  hit {hit['share']:.3f}"
            + (f"  REPEATED {misses.wraps}x" if misses.wraps else ""),
            flush=True,
        )
    loop = Run(wrk, base, folder, f"{slug}-loop", loop_lists(base, groups["loop"], slug))
    loop(1)
    looped = interleaved(reference, loop, seconds=seconds, rounds=rounds)
    looped["repeated"] = loop.wraps
    print(
        f"  {'The loop':26} {looped['share']:.3f} ({looped['rps']:7.1f}/s, rounds "
        + ", ".join(f"{r['share']:.3f}" for r in looped["rounds"])
        + ")",
        flush=True,
    )
    return {"show": show["title"], "slug": slug, "pages": pages, "loop": looped}


def interleaved(reference: Run, page: Run, *, seconds: float, rounds: int) -> dict:
    """A B A B: the share of a round is the page's requests/s over the trivial view's in the run
    just before it, so a change in the machine's load moves both halves of a pair; the report
    gives the median over the rounds."""
    return summarise([pair(reference(seconds), page(seconds)) for _ in range(rounds)])


def pair(ref: dict, page: dict) -> dict:
    if not ref["rps"] or not page["rps"]:
        raise BenchError(f"wrk got no answers: {ref} {page}")
    return {"reference": ref, "page": page, "share": page["rps"] / ref["rps"]}


def summarise(pairs: list[dict]) -> dict:
    return {
        "rounds": pairs,
        "share": statistics.median(p["share"] for p in pairs),
        "rps": statistics.median(p["page"]["rps"] for p in pairs),
        "reference_rps": statistics.median(p["reference"]["rps"] for p in pairs),
        "p50_ms": statistics.median(p["page"]["p50_ms"] for p in pairs),
        "p99_ms": statistics.median(p["page"]["p99_ms"] for p in pairs),
        "errors": sum(
            p[side]["bad"] + p[side]["timeouts"] for p in pairs for side in ("page", "reference")
        ),
    }


# --- Request lists ------------------------------------------------------------------------------
# One line a request: method, path, body, then headers, separated by tabs (bench/replay.lua).


def line(method: str, path: str, headers: dict[str, str], body: str = "") -> str:
    return "\t".join([method, path, body, *(f"{name}: {value}" for name, value in headers.items())])


def cookie(viewer: dict, token: str | None = None) -> dict[str, str]:
    value = f"{settings.SESSION_COOKIE_NAME}={viewer['session']}"
    if token:
        value += f"; {settings.CSRF_COOKIE_NAME}={token}"
    return {"Cookie": value}


def split(lines: list[str]) -> list[list[str]]:
    """Every WRK_THREADS-th request to each thread, so each thread's share is in order too."""
    return [lines[thread::WRK_THREADS] for thread in range(WRK_THREADS)]


def write_lists(folder: Path, name: str, lines: list[str]) -> Path:
    prefix = folder / name
    for thread, part in enumerate(split(lines)):
        Path(f"{prefix}.{thread}").write_text("\n".join(part) + "\n")
    return prefix


def trivial(group: list[dict]) -> list[str]:
    """The trivial view, once for each viewer in turn: every request loads a session and a user."""
    return [line("GET", TRIVIAL, cookie(viewer)) for viewer in group]


def read(viewer: dict, slug: str, key: str, path: str | None = None) -> str:
    urls = viewer["shows"][slug]["urls"]
    path = path or urls[key]
    headers = cookie(viewer)
    if key == "season":
        # As the show page's folded season asks for its rows when it is opened.
        season = path.rstrip("/").rsplit("/", 1)[-1]
        headers |= {"HX-Request": "true", "HX-Trigger": f"season-{season}-fold"}
    return line("GET", path, headers)


def reads(group: list[dict], slug: str, key: str) -> list[str]:
    """Each viewer reads the page once: no (viewer, page) pair comes twice in the list."""
    return [read(viewer, slug, key) for viewer in group]


def mark(base: str, viewer: dict, slug: str, episode: dict) -> str:
    """The htmx POST of the show page's "Mark watched" button, as htmx sends it."""
    token = viewer["session"][:32]  # any 32 letters and digits make a CSRF secret
    show_url = viewer["shows"][slug]["urls"]["show"]
    back = f"{show_url}?season={episode['season']}#episode-{episode['pk']}"
    headers = cookie(viewer, token) | {
        "HX-Request": "true",
        "HX-Target": f"season-{episode['season']}-episodes",
        "HX-Current-URL": base + show_url,
        "X-CSRFToken": token,
        "Origin": base,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "next": back})
    return line("POST", episode["watch"], headers, body)


def staggered(per_viewer: list[list[str]]) -> list[str]:
    """Round-robin over the viewers: one viewer's consecutive requests are a whole round apart,
    so each is answered before the next is sent, and every stretch of the list mixes them all."""
    longest = max(len(actions) for actions in per_viewer)
    return [actions[k] for k in range(longest) for actions in per_viewer if k < len(actions)]


def loop_lists(base: str, group: list[dict], slug: str) -> list[list[str]]:
    """Each viewer goes round the loop, starting at a different step of it (a quarter of them at
    each), so any stretch of the list holds as many marks as episode pages, show pages, casts."""
    per_viewer = []
    for index, viewer in enumerate(group):
        actions = []
        episode_path = None  # until their first mark: the episode they are at
        for step in range(index % len(LOOP), len(LOOP) * len(viewer["shows"][slug]["next"])):
            what = LOOP[step % len(LOOP)]
            if what == "mark":
                episode = viewer["shows"][slug]["next"][step // len(LOOP)]
                actions.append(mark(base, viewer, slug, episode))
                episode_path = episode["episode"]
            else:
                actions.append(
                    read(viewer, slug, what, episode_path if what == "episode" else None)
                )
        per_viewer.append(actions)
    return split_staggered(per_viewer)


def split_staggered(per_viewer: list[list[str]]) -> list[list[str]]:
    """A viewer's requests all go to one wrk thread, in order; the threads take turns of viewers."""
    return [staggered(per_viewer[thread::WRK_THREADS]) for thread in range(WRK_THREADS)]


def check_viewers(base: str, groups: dict, shows: list[dict]) -> None:
    """wrk must load the pages a viewer sees, not a redirect to the login page."""
    viewer = groups["miss"][0]
    for show in shows:
        for key, path in viewer["shows"][show["slug"]]["urls"].items():
            headers = cookie(viewer) | ({"HX-Request": "true"} if key == "season" else {})
            request = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(request, timeout=60) as response:
                body = response.read()
            if response.status != 200 or response.url != base + path:
                raise BenchError(f"{path} answered {response.status} at {response.url}")
            if key != "season" and b"Log out" not in body:
                raise BenchError(f"{path} was not served to a logged-in benchmark viewer")


def memory_after(
    env: dict, workers: int, paths: list[str], groups: list[list[str]], n: int
) -> list[dict]:
    """Workers' RSS on a fresh gunicorn after a warm-up by one viewer, then after n requests spread
    over each group of different viewers in turn.

    The first groups raise each worker to the high-water mark of rendering these pages cold for
    viewers all over the show, and fill what is bounded but filled by reading ever more rows (on
    SQLite, each connection's 2 MB of cached database pages); memory that grows with the number
    of viewers keeps growing with the last group, memory that does not stays where it was.
    """
    runs = []
    with gunicorn(env, workers) as (base, server):
        # Every page's code, templates and connections loaded, by the first viewer.
        fetch_all([(base + path, groups[0][0]) for path in paths] * 4 * workers)
        before = process_memory(server.pid)
        for sessions in groups:
            requests = [
                (base + paths[i % len(paths)], sessions[(i // len(paths)) % len(sessions)])
                for i in range(n)
            ]
            started = time.monotonic()
            statuses = fetch_all(requests)
            elapsed = time.monotonic() - started
            after = process_memory(server.pid)
            bad = {code: count for code, count in statuses.items() if code >= 500}
            if bad:
                raise BenchError(f"gunicorn answered {bad} in the memory check")
            # Per worker, by pid: a worker that gunicorn replaced would have no "before".
            growth = {
                pid: mb - before["by_pid"][pid]
                for pid, mb in after["by_pid"].items()
                if pid in before["by_pid"]
            }
            print(
                f"  memory after {n:,} requests from {len(sessions):,} more viewers in {elapsed:.0f} s: "
                + ", ".join(
                    f"{before['by_pid'][pid]:.1f} → {after['by_pid'][pid]:.1f} MB"
                    for pid in sorted(growth)
                ),
                flush=True,
            )
            runs.append(
                {
                    "viewers": len(sessions),
                    "requests": n,
                    "seconds": elapsed,
                    "statuses": {str(code): count for code, count in sorted(statuses.items())},
                    "before": before,
                    "after": after,
                    "growth_mb": sorted(growth.values()),
                }
            )
            before = after
    return runs


def fetch_all(requests: list[tuple[str, str]], concurrency: int = 4) -> Counter[int]:
    """GET each (URL, session key) with a few client threads; the status codes counted."""

    def fetch(item: tuple[str, str]) -> int:
        url, session = item
        request = urllib.request.Request(
            url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(concurrency) as pool:
        return Counter(pool.map(fetch, requests))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer {url} within {timeout} s")


def run_wrk(wrk: str, base: str, prefix: Path, positions: list[int], seconds: float) -> dict:
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(REPLAY),
        base + TRIVIAL,
        "--",
        str(prefix),
        ",".join(str(p) for p in positions),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    output = completed.stdout
    if completed.returncode != 0:
        raise BenchError(f"wrk failed: {completed.stderr or output}")
    drain(base)
    rps = float(found(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: duration_ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.M)}
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    threads = [
        tuple(int(n) for n in match)
        for match in re.findall(
            r"^bench-thread (\d+) position (\d+) issued (\d+) wraps (\d+) bad (\d+)", output, re.M
        )
    ]
    if len(threads) != WRK_THREADS:
        raise BenchError(f"wrk's replay script reported {len(threads)} threads:\n{output}")
    threads.sort()
    return {
        "rps": rps,
        "p50_ms": latency.get("50", 0.0),
        "p99_ms": latency.get("99", 0.0),
        "bad": sum(t[4] for t in threads),
        "wraps": sum(t[3] for t in threads),
        "positions": [t[1] for t in threads],
        "timeouts": int(errors.group(1)) if errors else 0,
        "requests": int(found(r"(\d+) requests in", output).group(1)),
    }


def drain(base: str) -> None:
    """Wait until the workers have answered what wrk's connections had queued when it stopped.

    A sync worker still serves the requests of connections that wrk has closed; a slow page can
    leave seconds of them, which would otherwise count against the next run. A request to the
    trivial view per connection wrk had, sent together, comes back only once that queue is gone.
    """
    probe = f"{base}/bench/ok/"

    def fetch(_: int) -> None:
        with urllib.request.urlopen(probe, timeout=120) as response:
            response.read()

    with ThreadPoolExecutor(WRK_CONNECTIONS) as pool:
        list(pool.map(fetch, range(WRK_CONNECTIONS)))


def found(pattern: str, text: str) -> re.Match[str]:
    """The first match in wrk's output; a BenchError if there is none, as when its format changes."""
    match = re.search(pattern, text)
    if match is None:
        raise BenchError(f"wrk's output has no {pattern!r}:\n{text}")
    return match


def duration_ms(value: str) -> float:
    number, unit = found(r"^([\d.]+)(us|ms|s|m)$", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # the shared venv being reinstalled
        return "?"


def wrk_version(wrk: str) -> str:
    # `wrk -v` prints its version and usage, and exits non-zero.
    output = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout
    match = re.search(r"wrk (\S+)", output)
    return match.group(1) if match else "?"


def process_memory(master: int) -> dict:
    """Resident memory (VmRSS, MB) of gunicorn's master and of each of its workers."""
    workers: dict[str, float | None] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            workers[entry] = rss_mb(int(entry))
    return {
        "master_mb": rss_mb(master),
        "workers_mb": sorted(w for w in workers.values() if w is not None),
        "by_pid": {pid: mb for pid, mb in workers.items() if mb is not None},
    }


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None
