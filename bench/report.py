"""Step 4 of the benchmark: the report, checked against the targets, and its section of the docs."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

import django
from django.conf import settings

from bench.data import EPISODES_PER_SEASON, SEASONS

DOC = settings.BASE_DIR / "docs" / "PERFORMANCE.md"
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Issue 26: requests/s on a miss as a share of the logged-in trivial view's, and in the loop;
# mark watched in-process on SQLite.
SHARE_TARGETS = {"show": 0.40, "episode": 0.40}
SHARE_TARGET = 0.30  # every other main page
LOOP_TARGET = 0.30
WATCH_MS = 10.0
PAGE_LABELS = {
    "home": "Home",
    "show": "Show page",
    "episode": "Episode page (their point)",
    "season": "Their season unfolded (htmx)",
    "cast": "Who's who",
    "character": "A character",
    "story": "Story so far",
    "previously": "Previously on",
    "search": "Search",
}


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
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {code} · {label} "
        f"{measured['db_version']} · Python {platform.python_version()} · Django {django.get_version()}"
        + (f" · gunicorn {served['gunicorn']} · wrk {served['wrk']}" if served else "")
        + f" · cache and sessions: {cache}"
        + (" · **quick run**" if quick else ""),
        f"Machine: {machine()}. **Load average** (1 min) {loads['start']:.1f} at the start, "
        + (f"{loads['served']:.1f} before wrk, " if served else "")
        + f"{loads['end']:.1f} at the end (the benchmark itself keeps up to two busy; more is "
        f"other work on the machine). The run took {seconds / 60:.0f} minutes.",
    ]
    checks: list[tuple[str, str, bool]] = []
    if served:
        lines += throughput(served, checks)
    else:
        lines += ["", "*Throughput not measured: wrk is not installed (`apt-get install -y wrk`).*"]
    posts = measured["posts"]
    for watch in (p for p in posts if p["key"].startswith("watch")):
        checks.append(
            (
                f"mark watched (htmx) median < {WATCH_MS:.0f} ms in-process, {watch['show']}"
                + ("" if vendor == "sqlite" else " (the target is for SQLite)"),
                f"{ms(watch['median_ms'])} ms over {watch['n']} marks",
                watch["median_ms"] < WATCH_MS,
            )
        )
    pages = measured["pages"]
    growth = measured["list_growth"]
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
    lines += ["", "| target (issue 26) | measured | met |", "| --- | --- | :-: |"]
    lines += [f"| {target} | {result} | {mark(ok)} |" for target, result, ok in checks]
    lines += [
        "",
        "<details><summary>In-process: server time, queries and size of each page of the long "
        f"show for the half-way viewer (safe at {measured['safe_point']}); marks</summary>",
        "",
        f"Data: *The Long Watch*, {built['episodes']} episodes ({SEASONS} seasons × "
        f"{EPISODES_PER_SEASON}) and {built['specials']} specials, {built['characters']} characters "
        f"with {built['states']:,} states, {built['notes']:,} reviewer notes; {built['users']:,} "
        f"users with {built['watches']:,} watches; *For All Mankind* alongside. Django's test "
        "client, one process; *cleared* is the median with the cache cleared before each request. "
        "Queries: *start* has watched nothing, *mid* half, *end* all; *small* is the same page of "
        f"For All Mankind. Home makes {growth['queries']} queries with {growth['shows']} shows and "
        f"{growth['more_queries']} with ten more followed.",
        "",
        "| page | median ms | cleared ms | CPU ms | queries: start · mid · end · small | KB |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for p in pages:
        q = p["queries"]
        lines.append(
            f"| {p['name']} | {ms(p['median_ms'])} | {ms(p['cold_median_ms'])} | "
            f"{ms(p['cpu_ms'])} | {q['start']} · {q['mid']} · {q['end']} · {q.get('small', '–')} | "
            f"{p['kb']:,.0f} |"
        )
    lines += [
        "",
        "| show | htmx write | median ms | p95 ms | queries | n |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {p['show']} | {p['name']} | {ms(p['median_ms'])} | {ms(p['p95_ms'])} | "
        f"{p['queries']} | {p['n']} |"
        for p in posts
    ]
    lines += ["", "</details>"]
    return "\n".join(lines)


def throughput(served: dict, checks: list[tuple[str, str, bool]]) -> list[str]:
    """The headline: each page's share of the trivial view on a miss and on a hit, and the loop."""
    pool, shows = served["pool"], served["shows"]
    lines = [
        "",
        f"Shares of the logged-in trivial view's requests/s under gunicorn ({served['workers']} "
        f"workers), medians of {served['rounds']} interleaved rounds of {served['seconds']} s. "
        f"*miss*: {pool['miss']:,} viewers each reading the page once; *hit*: {pool['hit']} viewers "
        "reading it again and again.",
        "",
        "| page | target on a miss | "
        + " | ".join(f"{show['show']}: miss | hit" for show in shows)
        + " |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in shows) + " |",
    ]
    missed: dict[str, list[str]] = {show["show"]: [] for show in shows}
    for index, key in enumerate(page["key"] for page in shows[0]["pages"]):
        target = SHARE_TARGETS.get(key, SHARE_TARGET)
        cells = []
        for show in shows:
            page = show["pages"][index]
            miss, hit = page["miss"], page["hit"]
            met = miss["share"] >= target and not miss["errors"] and not miss["repeated"]
            if not met:
                missed[show["show"]].append(f"{page['name']} {miss['share']:.2f}")
            note = " (repeats: pool too small)" if miss["repeated"] else ""
            note += (
                f" ({miss['errors'] + hit['errors']} errors)"
                if miss["errors"] + hit["errors"]
                else ""
            )
            cells.append(f"**{miss['share']:.2f}** {mark(met)}{note} | {hit['share']:.2f}")
        lines.append(f"| {PAGE_LABELS[key]} | {target:.2f} | " + " | ".join(cells) + " |")
    loops = []
    for show in shows:
        loop = show["loop"]
        met = loop["share"] >= LOOP_TARGET and not loop["errors"]
        note = f" ({loop['errors']} errors)" if loop["errors"] else ""
        loops.append(f"**{loop['share']:.2f}** {mark(met)}{note} | –")
        checks.append(
            (
                f"{show['show']}: the loop ≥ {LOOP_TARGET:.2f} per request",
                f"{loop['share']:.2f}",
                met,
            )
        )
    lines.append(f"| **The loop**, per request | {LOOP_TARGET:.2f} | " + " | ".join(loops) + " |")
    checks[:0] = [
        (
            f"{show['show']}: on a miss, show and episode pages ≥ 0.40, the others ≥ 0.30",
            "all met" if not missed[show["show"]] else "missed: " + ", ".join(missed[show["show"]]),
            not missed[show["show"]],
        )
        for show in shows
    ]
    reference = " · ".join(
        f"{show['show']} {statistics.median(p['miss']['reference_rps'] for p in show['pages']):,.0f}"
        for show in shows
    )
    lines += [
        "",
        f"The trivial view answered about {reference} requests/s (median over the miss runs).",
    ]
    memory = served["memory"]
    growths = [max(run["growth_mb"], default=0.0) for run in memory["viewers"]]
    if len(growths) >= 2:
        # The first groups lift each worker to the high-water mark of cold renders and fill what
        # is bounded (SQLite's page cache); memory that grows with viewers keeps growing with the
        # last. A worker's RSS moves by a megabyte or two with the allocator alone.
        checks.append(
            (
                "worker memory flat with the number of viewers",
                f"{memory['viewers'][-1]['viewers']} more viewers: {growths[-1]:+.1f} MB "
                f"(groups before: {', '.join(f'{g:+.1f}' for g in growths[:-1])}); workers "
                + ", ".join(f"{m:.0f}" for m in memory["viewers"][-1]["after"]["workers_mb"])
                + " MB",
                growths[-1] < 2.0,
            )
        )
    return lines


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
