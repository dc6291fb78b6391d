"""Step 4 of the benchmark: the report, checked against the targets, and its section of the docs."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from pathlib import Path

import django
from django.conf import settings

from bench.data import EPISODES_PER_SEASON, SEASONS

DOC = settings.BASE_DIR / "docs" / "PERFORMANCE.md"
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGETS = {"page_ms": 25, "watch_ms": 15, "throughput_share": 0.40, "rss_mb": 150}


def machine() -> str:
    try:
        cpuinfo, meminfo = Path("/proc/cpuinfo").read_text(), Path("/proc/meminfo").read_text()
    except OSError:
        cpuinfo = meminfo = ""
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    kb = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    memory = f"{int(kb.group(1)) / 1024 / 1024:.1f} GiB RAM" if kb else "unknown memory"
    return (
        f"{os.cpu_count()} CPUs ({cpu.group(1).strip() if cpu else 'unknown CPU'}), {memory}, "
        f"{platform.system()} {platform.release()}"
    )


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
