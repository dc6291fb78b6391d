"""Shared, cached episode rows get this request's CSRF token and messages put in
(Viewing.render_rows, companion/renders.py)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from companion.renders import with_csrf as put_csrf_in

register = template.Library()


@register.filter
def with_csrf(html: SafeString, token) -> SafeString:
    return put_csrf_in(html, str(token))


@register.filter
def with_row_messages(html: SafeString, placed: dict | None) -> SafeString:
    """Each message about a row's mark, shown at the end of that row (views.row_messages)."""
    for pk, found in (placed or {}).items():
        start = html.find(f'id="episode-{pk}"')
        end = html.find("</li>", start)
        if start < 0 or end < 0:
            continue
        said = "".join(
            format_html('<p class="message row-message {}">{}</p>', message.level_tag, message)
            for message in found
        )
        html = mark_safe(html[:end] + said + html[end:])
    return html
