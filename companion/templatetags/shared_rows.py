"""Shared, cached episode rows get this request's CSRF token put in (Viewing.render_rows)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from companion.viewing import CSRF_PLACEHOLDER

register = template.Library()


@register.filter
def with_csrf(html: SafeString, token) -> SafeString:
    return mark_safe(html.replace(CSRF_PLACEHOLDER, escape(str(token))))
