"""The error pages show the same texts as the htmx error fragments, from the one table of them."""

from django import template

from config.middleware import ERROR_MESSAGES

register = template.Library()


@register.simple_tag
def error_message(status: int) -> str:
    return ERROR_MESSAGES[status]
