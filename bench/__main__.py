"""`python -m bench` (`make bench`): the parent process, which runs each step in a child process.

The parent never touches a real database. It creates a throwaway one (a temporary SQLite file, or a
`spoilerfree_bench_<pid>` database beside DATABASE_URL's PostgreSQL one), then runs `migrate`,
`collectstatic`, `python -m bench --step build` (bench.data) and `--step measure` (bench.measure) as
child processes with DATABASE_URL pointing at it and the production settings (DJANGO_DEBUG=0),
serves it with gunicorn and drives that with wrk (bench.serve), drops the throwaway database and
writes the results into its own section of docs/PERFORMANCE.md (bench.report).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.core.management.color import color_style

from bench import BenchError

# A name of this run's own, so two runs on one server (two worktrees, say) never share one.
BENCH_DATABASE = f"spoilerfree_bench_{os.getpid()}"
# Only to connect to, to create and drop the benchmark's own database.
DEFAULT_POSTGRES = "postgres://postgres@localhost:5432/postgres"
style = color_style()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Build a large synthetic show in a throwaway database (SQLite, or PostgreSQL when "
            "DATABASE_URL is set), measure queries, server time and gunicorn throughput, and "
            "update docs/PERFORMANCE.md."
        ),
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"Run on PostgreSQL: DATABASE_URL if it names one, else {DEFAULT_POSTGRES}.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Shorter runs of everything (about half the time); the docs say it was a quick run.",
    )
    parser.add_argument(
        "--requests", type=int, help="Timed in-process requests per page (40; quick 10)."
    )
    parser.add_argument(
        "--budget", type=float, default=6.0, help="Seconds at most per timed page in-process."
    )
    parser.add_argument(
        "--marks", type=int, default=200, help="Timed marks per show, in-process (200)."
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2).")
    parser.add_argument(
        "--seconds", type=int, help="Seconds of each wrk run; a round is two runs (3; quick 2)."
    )
    parser.add_argument("--rounds", type=int, help="A B rounds per measurement (3; quick 2).")
    parser.add_argument(
        "--pool",
        type=int,
        help="Viewers who each read every page once, for the misses (5,000; quick 2,500).",
    )
    parser.add_argument(
        "--viewers", type=int, help="Viewers in each of the memory check's three groups (100)."
    )
    parser.add_argument(
        "--memory-requests",
        type=int,
        help="Requests per memory check (1,000; quick 400).",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Scale users and notes (for a quick try)."
    )
    parser.add_argument(
        "--local-cache",
        action="store_true",
        help="Each process's own local-memory cache instead of a Redis of the benchmark's own.",
    )
    parser.add_argument("--no-docs", action="store_true", help="Print the results only.")
    parser.add_argument(
        "--report-from",
        type=Path,
        help="Write the report again from a run's results (the run names the file).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the throwaway database to look into."
    )
    # Internal: the child processes that run against the throwaway database.
    parser.add_argument("--step", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--built", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    quick = options.quick
    for name, full, short in (
        ("requests", 40, 10),
        ("seconds", 3, 2),
        ("rounds", 3, 2),
        ("pool", 5000, 2500),
        ("viewers", 100, 100),
        ("memory_requests", 1000, 400),
    ):
        if getattr(options, name) is None:
            setattr(options, name, short if quick else full)
    if options.rounds < 2 or options.marks < 200 or options.pool < 200:
        parser.error("--rounds must be at least 2, --marks and --pool at least 200 (issue 26).")
    return options


# Besides the pool, whose viewers each read every page once: viewers whose repeat views are the
# hits, and viewers who go round the loop.
GROUPS = {"hit": 16, "loop": 200}


def pool_sizes(options: argparse.Namespace) -> dict[str, int]:
    return {"miss": options.pool} | GROUPS


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    if options.postgres and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"] = DEFAULT_POSTGRES
    elif not options.postgres and not options.step and "DATABASE_URL" in os.environ:
        # SQLite unless asked: a DATABASE_URL in the environment does not pick the database.
        print("bench: DATABASE_URL is ignored without --postgres; measuring SQLite.")
        del os.environ["DATABASE_URL"]
    # Always the benchmark's settings: its URLs add the trivial views that throughput is compared with.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    django.setup()
    # The steps import the models, so they load only once Django is set up.
    from bench import data, measure

    try:
        if options.report_from:
            report_on(json.loads(options.report_from.read_text()), options)
        elif options.step == "build":
            write_json(options.out, data.build(options.scale))
        elif options.step == "measure":
            built = json.loads(options.built.read_text())
            write_json(
                options.out,
                measure.measure(
                    options.requests,
                    options.budget,
                    options.marks,
                    options.viewers,
                    built["progress"],
                    pool_sizes(options),
                ),
            )
        else:
            orchestrate(options)
    except BenchError as error:
        sys.exit(style.ERROR(f"bench: {error}"))


def write_json(out: Path, result: dict) -> None:
    out.write_text(json.dumps(result, indent=1))


def orchestrate(options: argparse.Namespace) -> None:
    from bench.report import LABELS, code_version
    from bench.serve import serve_and_load

    started, code = time.monotonic(), code_version()
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            style.WARNING(
                f"The load average is {load:.1f}: other work on this machine will slow the measurements down."
            )
        )
    tmp = Path(tempfile.mkdtemp(prefix="spoilerfree-bench-"))
    vendor, database_url, drop_database = throwaway_database(tmp)
    print(f"Benchmarking on {LABELS[vendor]}, throwaway database {redact(database_url)}")
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,testserver",
        # Plain HTTP on 127.0.0.1: no TLS to redirect to.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_LOG_LEVEL="ERROR",
        BENCH_STATIC_ROOT=str(tmp / "static"),
    )
    redis = None if options.local_cache else start_redis(tmp)
    if redis is not None:
        env["REDIS_URL"] = redis.url
    cache = f"Redis {redis.version} (a server of its own)" if redis else "the local-memory cache"
    print(f"Cache: {cache}")
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        step(env, "build", tmp / "build.json", "--scale", str(options.scale))
        step(
            env,
            "measure",
            tmp / "measure.json",
            *("--requests", str(options.requests), "--budget", str(options.budget)),
            *("--marks", str(options.marks), "--viewers", str(options.viewers)),
            *("--pool", str(options.pool), "--built", str(tmp / "build.json")),
            *(["--quick"] if options.quick else []),
        )
        load_measured = os.getloadavg()[0]
        built = json.loads((tmp / "build.json").read_text())
        measured = json.loads((tmp / "measure.json").read_text())
        served = serve_and_load(
            env,
            measured,
            tmp,
            workers=options.workers,
            seconds=options.seconds,
            rounds=options.rounds,
            memory_requests=options.memory_requests,
        )
        if served:
            write_json(tmp / "served.json", served)
    finally:
        if options.keep:
            variables = (
                "DATABASE_URL",
                "DJANGO_SETTINGS_MODULE",
                "DJANGO_DEBUG",
                "DJANGO_SECRET_KEY",
                "DJANGO_ALLOWED_HOSTS",
                "DJANGO_SECURE_SSL_REDIRECT",
                "BENCH_STATIC_ROOT",
            )
            print(
                "Kept the throwaway database; to use it:\n  "
                + " ".join(f"{name}={env[name]}" for name in variables)
            )
            if redis is not None:
                print(
                    f"  (its Redis at {redis.url} is stopped at the end; without REDIS_URL the cache is local)"
                )
        else:
            drop_database()
        if redis is not None:
            redis.stop()
        if not options.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    loads = {
        "start": load,
        "measure": load_measured,
        "served": served["load"]["before"] if served else None,
        "end": os.getloadavg()[0],
    }
    if code_version() != code:
        code += f" (the code changed during the run: {code_version()} at the end)"
    results = {
        "vendor": vendor,
        "built": built | {"progress": None},
        "measured": measured | {"viewers": None, "memory_sessions": None},
        "served": served,
        "seconds": time.monotonic() - started,
        "loads": loads,
        "code": code,
        "quick": options.quick,
        "cache": cache,
    }
    # Kept to write the report again (`--report-from`) without measuring again.
    write_json(Path(tempfile.gettempdir()) / f"spoilerfree-bench-{vendor}.json", results)
    report_on(results, options)


def report_on(results: dict, options: argparse.Namespace) -> None:
    from bench.report import DOC, LABELS, render_report, write_docs

    vendor = results["vendor"]
    report = render_report(**results)
    print("\n" + report)
    if options.no_docs or results["built"]["users"] < 10_000:
        print("docs/PERFORMANCE.md left unchanged (--no-docs or --scale).")
    else:
        write_docs(vendor, report)
        print(style.SUCCESS(f"Wrote the {LABELS[vendor]} section of {DOC}"))


def run(env: dict, *args: str) -> None:
    sys.stdout.flush()
    subprocess.run([sys.executable, *args], env=env, cwd=settings.BASE_DIR, check=True, timeout=900)


def manage(env: dict, *args: str) -> None:
    run(env, str(settings.BASE_DIR / "manage.py"), *args)


def step(env: dict, name: str, out: Path, *args: str) -> None:
    run(env, "-m", "bench", "--step", name, "--out", str(out), *args)


# --- The cache ------------------------------------------------------------------------------------


class OwnRedis:
    """A Redis server of the benchmark's own on a free port, keeping nothing on disk.

    Production runs with Redis for the cache and sessions (docs/DEPLOY.md), so that is what is
    measured; a server of its own means clearing the cache can never touch a shared Redis.
    """

    def __init__(self, server: str, folder: Path):
        from bench.serve import free_port

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.version = client.info()["redis_version"]
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise BenchError(f"{server} did not start on port {self.port}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_redis(folder: Path) -> OwnRedis | None:
    server = shutil.which("redis-server")
    if server is None:
        print(style.WARNING("redis-server is not installed: measuring the local-memory cache."))
        return None
    return OwnRedis(server, folder)


# --- The throwaway database ---------------------------------------------------------------------


def throwaway_database(tmp: Path):
    """(vendor, DATABASE_URL of a new empty database, a function that drops it)."""
    from django.db import connection

    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        return "sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise BenchError(f"bench runs on SQLite or PostgreSQL, not {parts.scheme}.")

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


if __name__ == "__main__":
    main()
