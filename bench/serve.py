"""Step 3 of the benchmark: requests per second under gunicorn, driven by wrk, and worker memory."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.color import color_style

from bench import BenchError

style = color_style()


def serve_and_load(env: dict, measured: dict, workers: int, seconds: int) -> dict | None:
    """Requests per second under gunicorn for the trivial view and two pages, and worker memory."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            style.WARNING(
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
        "DJANGO_SETTINGS_MODULE=bench.settings",
    ]
    print(f"Starting gunicorn with {workers} workers on {base}", flush=True)
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
        check_logged_in(base + "/bench/ok-user/", cookie, sign=f"ok {measured['user_id']}".encode())
        for _, path in targets[2:]:
            check_logged_in(base + path, cookie)
        runs, load = [], os.getloadavg()[0]
        for label, path in targets:
            run_wrk(wrk, base + path, cookie, seconds=2)  # warm every worker up
            result = run_wrk(wrk, base + path, cookie, seconds=seconds)
            runs.append({"label": label, "path": path, **result})
            print(
                f"  {label:42} {result['rps']:8.1f} requests/s  p50 {result['p50_ms']:.1f} ms",
                flush=True,
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


def check_logged_in(url: str, cookie: str, sign: bytes = b"Log out") -> None:
    """wrk must load the page a viewer sees, not a redirect to the login page."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200 or sign not in response.read():
            raise BenchError(f"{url} was not served to the logged-in benchmark viewer")


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
