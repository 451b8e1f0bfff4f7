"""Response headers the portal adds to every response, beyond Django's and django-csp's."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Send a Permissions-Policy header that turns off the browser features listed in
    settings.PERMISSIONS_POLICY: an injected script or a framed page cannot use them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
