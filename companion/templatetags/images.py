from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_url(context, url: str) -> str:
    """The URL with the request's scheme and host, as OG tags need (an absolute one stays)."""
    return context["request"].build_absolute_uri(url)
