"""What every page's frame links to, looked up once per process instead of once per page."""

from functools import cache

from django import template
from django.templatetags.static import static
from django.urls import reverse

register = template.Library()


@register.simple_tag
@cache
def link(name: str) -> str:
    """The URL of a route that takes no arguments: reverse() took about as long as the rest of
    the site's frame, on every page, for a URL that does not change while the process runs."""
    return reverse(name)


@register.simple_tag
@cache
def asset(path: str) -> str:
    """A static file's URL (its hashed name, from the manifest the process read at start)."""
    return static(path)
