from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateCacheMiddleware:
    """Every page depends on who is asking, so no shared cache may keep one and serve it to another.

    Pages are `private, no-cache` (a browser may keep them but must ask again) and vary on the
    cookie and on HX-Request, since a URL can answer with a page or with an htmx fragment.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            patch_cache_control(response, private=True, no_cache=True, must_revalidate=True)
            patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response
