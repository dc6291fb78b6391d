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
# The pages whose throughput the memory check replays, as the viewers of the long show see them.
MEMORY_PAGES = ("home", "show", "episode", "cast", "story", "previously")


def serve_and_load(
    env: dict,
    measured: dict,
    *,
    workers: int,
    seconds: float,
    rounds: int,
    memory_requests: int,
) -> dict | None:
    """Throughput of each main page as a share of the logged-in trivial view, and worker memory."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            style.WARNING(
                "wrk is not installed, so throughput is not measured. On Debian: apt-get install -y wrk"
            )
        )
        return None
    load_before = os.getloadavg()
    shows = []
    with gunicorn(env, workers) as (base, server):
        for target in measured["throughput"]:
            shows.append(interleaved(wrk, base, target, seconds=seconds, rounds=rounds))
        after_load = process_memory(server.pid)
    load_after = os.getloadavg()
    long_show = measured["throughput"][-1]
    paths = [long_show["urls"][key] for key in MEMORY_PAGES]
    many = measured["memory_sessions"]
    size = len(many) // 3
    groups = [many[i * size : (i + 1) * size] for i in range(3)]
    viewers = memory_after(env, workers, paths, groups, memory_requests)
    return {
        "workers": workers,
        "threads": WRK_THREADS,
        "connections": WRK_CONNECTIONS,
        "seconds": seconds,
        "rounds": rounds,
        "shows": shows,
        "memory": {"after_load": after_load, "viewers": viewers, "pages": list(MEMORY_PAGES)},
        "load": {"before": load_before[0], "after": load_after[0]},
        "gunicorn": importlib.metadata.version("gunicorn"),
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


def interleaved(wrk: str, base: str, target: dict, *, seconds: float, rounds: int) -> dict:
    """Each page against the logged-in trivial view, A B A B: `rounds` pairs of wrk runs per page.

    The share of a round is the page's requests/s over the trivial view's in the run just before
    it, so a change in the machine's load moves both halves of a pair; the report gives the median.
    """
    cookie = f"{settings.SESSION_COOKIE_NAME}={target['session_key']}"
    reference = base + "/bench/ok-user/"
    check_logged_in(reference, cookie, sign=f"ok {target['user_id']}".encode())
    for key, path in target["urls"].items():
        check_logged_in(base + path, cookie, htmx=key == "season")
    print(f"Throughput on {target['show']}, {target['viewer']}:", flush=True)
    run_wrk(wrk, reference, cookie, seconds=2)  # warm both workers up
    pages = []
    for key, path in target["urls"].items():
        htmx = key == "season"
        run_wrk(wrk, base + path, cookie, seconds=1, htmx=htmx)  # this page's caches and templates
        pairs = []
        for _ in range(rounds):
            ref = run_wrk(wrk, reference, cookie, seconds=seconds)
            page = run_wrk(wrk, base + path, cookie, seconds=seconds, htmx=htmx)
            if not ref["rps"] or not page["rps"]:
                raise BenchError(
                    f"wrk got no answers from {path} or the trivial view: {ref} {page}"
                )
            pairs.append({"reference": ref, "page": page, "share": page["rps"] / ref["rps"]})
        page = {
            "key": key,
            "name": PAGE_NAMES[key],
            "path": path,
            "rounds": pairs,
            "share": statistics.median(p["share"] for p in pairs),
            "rps": statistics.median(p["page"]["rps"] for p in pairs),
            "reference_rps": statistics.median(p["reference"]["rps"] for p in pairs),
            "p50_ms": statistics.median(p["page"]["p50_ms"] for p in pairs),
            "p99_ms": statistics.median(p["page"]["p99_ms"] for p in pairs),
            "errors": sum(
                p[side]["non_2xx"] + p[side]["timeouts"]
                for p in pairs
                for side in ("page", "reference")
            ),
        }
        pages.append(page)
        print(
            f"  {page['name']:26} {page['rps']:8.1f} requests/s, reference {page['reference_rps']:8.1f}: "
            f"share {page['share']:.3f} (rounds "
            + ", ".join(f"{p['share']:.3f}" for p in pairs)
            + ")",
            flush=True,
        )
    return {key: target[key] for key in ("show", "slug", "viewer")} | {"pages": pages}


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


def check_logged_in(url: str, cookie: str, sign: bytes = b"Log out", htmx: bool = False) -> None:
    """wrk must load the page a viewer sees, not a redirect to the login page."""
    headers = {"Cookie": cookie} | ({"HX-Request": "true"} if htmx else {})
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        # An htmx fragment has no page chrome; it is enough that it is a 200 and not the login form.
        if response.status != 200 or (sign not in body if not htmx else b"password" in body):
            raise BenchError(f"{url} was not served to the logged-in benchmark viewer")


def run_wrk(wrk: str, url: str, cookie: str, *, seconds: float, htmx: bool = False) -> dict:
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        *(["-H", "HX-Request: true"] if htmx else []),
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    drain(url)
    rps = float(found(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: duration_ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latency.get("50", 0.0),
        "p99_ms": latency.get("99", 0.0),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "timeouts": int(errors.group(1)) if errors else 0,
        "requests": int(found(r"(\d+) requests in", output).group(1)),
    }


def drain(url: str) -> None:
    """Wait until the workers have answered what wrk's connections had queued when it stopped.

    A sync worker still serves the requests of connections that wrk has closed; a slow page can
    leave seconds of them, which would otherwise count against the next run. A request to the
    trivial view per connection wrk had, sent together, comes back only once that queue is gone.
    """
    parts = urllib.parse.urlsplit(url)
    probe = f"{parts.scheme}://{parts.netloc}/bench/ok/"

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
