"""A crawler for leak tests: every URL the app serves to one viewer, as a page and as an htmx request."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import product
from urllib.parse import urlencode, urljoin, urlsplit

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

# Never crawled: the admin is for editors, and static files are not rendered per viewer.
SKIP_PREFIXES = ("/admin/", "/static/")
LINK_ATTRIBUTES = {
    f"{prefix}{name}"
    for prefix in ("", "data-")
    for name in ("href", "action", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
}
# Headers whose value is a URL the browser (or htmx) goes on to fetch.
LINK_HEADERS = ("Location", "HX-Redirect", "HX-Location", "HX-Push-Url", "HX-Replace-Url")
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
MAX_URLS = 3000


@dataclass(frozen=True)
class Fetched:
    """One response, reduced to what a viewer (or anything between them and us) can see of it."""

    url: str
    htmx: bool
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str

    @property
    def label(self) -> str:
        return f"{self.url}{' [htmx]' if self.htmx else ''} -> {self.status}"

    def everything(self) -> str:
        return self.body + "\n" + "\n".join(f"{name}: {value}" for name, value in self.headers)


class _Links(HTMLParser):
    """Every URL a page links, posts or hx-gets to, and its GET forms filled in with the search terms."""

    def __init__(self, terms: list[str]):
        super().__init__(convert_charrefs=True)
        self.terms = terms
        self.links: list[str] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.links.extend(value for name, value in attributes.items() if name in LINK_ATTRIBUTES)
        if tag == "form":
            is_get = attributes.get("method", "get").lower() == "get"
            target = attributes.get("hx-get") or (attributes.get("action", "") if is_get else None)
            self._form = None if target is None else {"action": target, "fields": []}
        elif (
            tag == "input"
            and self._form is not None
            and attributes.get("name")
            and attributes.get("type", "text") in ("text", "search")
        ):
            self._form["fields"].append(attributes["name"])

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            for name in self._form["fields"]:
                self.links.extend(
                    f"{self._form['action']}?{urlencode({name: term})}" for term in self.terms
                )
            self._form = None


def readable(response) -> str:
    """The body as its reader sees it: an iCalendar feed's long lines unfolded (RFC 5545 3.1), so
    a word folded across two lines is looked for whole."""
    body = response.content.decode(errors="replace")
    if response.get("Content-Type", "").startswith("text/calendar"):
        body = re.sub(r"\r\n[ \t]", "", body)
    return body


def links_in(url: str, response, terms: list[str]) -> list[str]:
    found = [response.headers[name] for name in LINK_HEADERS if name in response.headers]
    if response.get("Content-Type", "").startswith("text/html"):
        parser = _Links(terms)
        parser.feed(response.content.decode())
        found += parser.links
    return [link for link in (same_site(url, raw) for raw in found) if link]


def same_site(base: str, raw: str) -> str | None:
    """The path and query of a link on this site, or None for other sites, static files and the admin."""
    parts = urlsplit(urljoin(f"http://testserver{base}", raw.strip()))
    if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
        return None
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def routes(patterns=None, prefix: str = ""):
    """Every route in the URLconf as a string like 'shows/<slug:slug>/cast/', included ones too."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not ("/" + route).startswith(SKIP_PREFIXES):
                yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def plugged_in(parts: dict) -> Callable[[re.Match[str]], str]:
    """A replacement for ROUTE_PARAMETER.sub: each parameter's value from `parts`."""
    return lambda match: str(parts[match.group(1)])


def urls_from_urlconf(values: dict[str, list]) -> list[str]:
    """Each route with every combination of the given parameter values plugged in.

    `values` maps a route parameter to the values to try. A value may be a dict that sets several
    parameters at once (a season and an episode number belong together; so do a kind and an id).
    """
    urls = []
    for route in routes():
        groups: list[list[dict]] = []
        for name in dict.fromkeys(ROUTE_PARAMETER.findall(route)):
            if any(name in options[0] for options in groups):
                continue
            if name not in values:
                raise AssertionError(
                    f"The leak crawler has nothing to plug into <{name}> in {route!r}."
                )
            groups.append([v if isinstance(v, dict) else {name: v} for v in values[name]])
        filled = []
        for combination in product(*groups):
            parts = {key: value for part in combination for key, value in part.items()}
            filled.append("/" + ROUTE_PARAMETER.sub(plugged_in(parts), route))
        urls += filled
    return list(dict.fromkeys(urls))


def route_of(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).route
    except Resolver404:
        return None


def crawl(
    client, seeds: list[str], *, referer: str, terms: list[str]
) -> dict[tuple[str, bool], Fetched]:
    """GET every seed and every same-site URL reachable from them, each as a page and as an htmx request.

    Nothing is POSTed: form actions are fetched with GET too, which state-changing views refuse (405).
    A POST-only view refuses before it looks at its arguments, so once a route has answered 405 to
    both kinds of GET its other URLs are skipped: they are a third of all URLs, and all alike.
    """
    fetched: dict[tuple[str, bool], Fetched] = {}
    queue = deque((url, referer) for url in seeds)
    seen, refusing = set(), set()
    while queue:
        url, came_from = queue.popleft()
        route = route_of(url)
        if url in seen or route in refusing:
            continue
        seen.add(url)
        assert len(seen) <= MAX_URLS, "the crawl does not converge"
        # The JSON API is not fetched by htmx; its answers do not depend on HX-Request.
        for htmx in (False,) if url.startswith("/api/") else (False, True):
            # What htmx sends: HX-Request, and the page the request was made from.
            headers = {
                "HTTP_HX_REQUEST": "true",
                "HTTP_HX_CURRENT_URL": f"http://testserver{came_from}",
            }
            response = client.get(url, **(headers if htmx else {}))
            fetched[url, htmx] = Fetched(
                url=url,
                htmx=htmx,
                status=response.status_code,
                headers=tuple(sorted(response.headers.items())),
                body=readable(response),
            )
            queue.extend((link, url) for link in links_in(url, response, terms))
        answers = {fetched[key].status for key in ((url, False), (url, True)) if key in fetched}
        if route is not None and answers == {405}:
            refusing.add(route)
    return fetched
