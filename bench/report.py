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
# Issue 17: throughput as a share of the logged-in trivial view; mark watched in-process on SQLite.
SHARE_TARGETS = {"show": 0.40, "episode": 0.40}
SHARE_TARGET = 0.25  # every other main page
WATCH_MS = 10.0


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
    quick: bool = False,
    cache: str = "the local-memory cache",
) -> str:
    label = LABELS[vendor]
    pages, posts = measured["pages"], measured["posts"]
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {code} · {label} "
        f"{measured['db_version']} · Python {platform.python_version()} · Django {django.get_version()}"
        + (f" · gunicorn {served['gunicorn']} · wrk {served['wrk']}" if served else ""),
        f"Machine: {machine()}. The whole run took {seconds:.0f} s (building the data {built['seconds']:.0f} s)"
        + (
            " in quick mode (`--quick`: shorter wrk runs, fewer timed requests, fewer viewers)"
            if quick
            else ""
        )
        + f". **Load average** (1 min) at the start {loads['start']:.2f} and at the end {loads['end']:.2f}; "
        f"after the in-process measurements {loads['measure']:.2f}"
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
        f"episode). Cache and sessions: {cache}.",
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
        f"{measured['small_safe_point']}. Home makes {growth['queries']} queries with {growth['shows']} "
        f"shows and {growth['more_queries']} with {growth['more_shows']} (the viewer following ten more). *CPU* is the median CPU time of the "
        "benchmark's own process, which other load on the machine barely changes (on PostgreSQL it leaves out "
        "the database server's share). *SQL* is the time spent in the page's "
        "`cursor.execute` calls (warm); fetching the rows comes after it and counts as Python. Most of each "
        "median is Python: building objects and rendering templates.",
        "",
        "**htmx writes** (in-process, `HX-Request: true`; times in ms)",
        "",
        "| show | request | median | p95 | CPU | queries | n |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {p['show']} | {p['name']} `{p['path']}` | {ms(p['median_ms'])} | {ms(p['p95_ms'])} | "
        f"{ms(p['cpu_ms'])} | {p['queries']} | {p['n']} |"
        for p in posts
    ]
    checks = []
    if served:
        lines += [
            "",
            f"**Throughput under gunicorn** ({served['workers']} sync workers on 127.0.0.1; wrk with "
            f"{served['threads']} threads and {served['connections']} connections on the same machine, "
            f"logged in by session cookie). Each page is interleaved with the logged-in trivial view "
            f"`/bench/ok-user/`, A B A B: {served['rounds']} rounds of {served['seconds']} s each; *share* "
            "is the median over the rounds of page requests/s ÷ the trivial view's requests/s in the run "
            "just before it.",
        ]
        for show in served["shows"]:
            lines += [
                "",
                f"*{show['show']}*, {show['viewer']}:",
                "",
                "| page | requests/s | trivial view requests/s | share (rounds) | target | met | p50 ms | p99 ms | errors |",
                "| --- | ---: | ---: | --- | ---: | :-: | ---: | ---: | ---: |",
            ]
            for page in show["pages"]:
                target = SHARE_TARGETS.get(page["key"], SHARE_TARGET)
                met = page["share"] >= target and not page["errors"]
                rounds = ", ".join(f"{r['share']:.3f}" for r in page["rounds"])
                lines.append(
                    f"| {page['name']} `{page['path']}` | {page['rps']:,.1f} | {page['reference_rps']:,.1f} | "
                    f"**{page['share']:.3f}** ({rounds}) | {target:.2f} | {mark(met)} | {ms(page['p50_ms'])} | "
                    f"{ms(page['p99_ms'])} | {page['errors']} |"
                )
            missed = [
                p for p in show["pages"] if p["share"] < SHARE_TARGETS.get(p["key"], SHARE_TARGET)
            ]
            checks.append(
                (
                    f"{show['show']}: show and episode pages ≥ 0.40, other main pages ≥ 0.25",
                    "all met"
                    if not missed
                    else "missed: " + ", ".join(f"{p['name']} {p['share']:.3f}" for p in missed),
                    not missed,
                )
            )
        memory = served["memory"]
        lines += [
            "",
            "**Memory** (VmRSS of each gunicorn worker, MB). After all the throughput runs above: workers "
            + ", ".join(f"{m:.0f}" for m in memory["after_load"]["workers_mb"])
            + f"; master {memory['after_load']['master_mb']:.0f}. Then, on a fresh gunicorn warmed up by "
            f"one viewer, requests to the long show's {', '.join(memory['pages'])} pages spread over "
            "different logged-in viewers (each with their own progress), one group after another:",
            "",
            "| more viewers | requests | workers before | workers after | growth, largest worker | statuses |",
            "| ---: | ---: | --- | --- | ---: | --- |",
        ]
        growths = []
        for run in memory["viewers"]:
            before, after = run["before"]["workers_mb"], run["after"]["workers_mb"]
            largest = max(run["growth_mb"], default=0.0)
            growths.append(largest)
            statuses = ", ".join(f"{code}: {n:,}" for code, n in run["statuses"].items())
            lines.append(
                f"| {run['viewers']:,} | {run['requests']:,} | {' · '.join(f'{m:.1f}' for m in before)} | "
                f"{' · '.join(f'{m:.1f}' for m in after)} | {largest:+.1f} | {statuses} |"
            )
        if len(growths) >= 2:
            # The first groups lift each worker to the high-water mark of cold renders and fill
            # what is bounded (SQLite's page cache); memory that grows with viewers keeps growing
            # with the last. A worker's RSS moves by a megabyte or two with the allocator alone.
            flat = growths[-1] < 2.0
            earlier = ", then ".join(f"{growth:+.1f}" for growth in growths[:-1])
            checks.append(
                (
                    "per-worker memory does not grow with the number of viewers",
                    f"the last {memory['viewers'][-1]['viewers']:,} viewers {growths[-1]:+.1f} MB, "
                    f"after {earlier} MB from the groups before "
                    "(under 2 MB from the last counts as flat)",
                    flat,
                )
            )
    else:
        lines += ["", "*Throughput not measured: wrk is not installed (`apt-get install -y wrk`).*"]

    for watch in (p for p in posts if p["key"].startswith("watch")):
        checks.append(
            (
                f"mark watched (htmx) median < {WATCH_MS:.0f} ms in-process, {watch['show']}"
                + ("" if vendor == "sqlite" else " (the target is for SQLite)"),
                f"{ms(watch['median_ms'])} ms over {watch['n']} marks",
                watch["median_ms"] < WATCH_MS,
            )
        )
    grown = [
        p["name"]
        for p in pages
        if p["queries"]["end"] > p["queries"]["mid"]
        or p["queries"]["mid"] > p["queries"].get("small", p["queries"]["mid"])
    ] + (["Home (per show)"] if growth["more_queries"] > growth["queries"] else [])
    checks.append(
        (
            "queries per page do not grow with content or progress",
            "no growth" if not grown else "grow: " + ", ".join(grown),
            not grown,
        )
    )
    lines += [
        "",
        "**Against the targets** (issue 17)",
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
