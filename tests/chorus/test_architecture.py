"""Rules of the code base worth keeping, checked on the whole URL map."""

from django.urls import URLPattern, URLResolver, get_resolver


def _portal_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django admin: staff only, by its own rules
            yield from _portal_views(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def test_every_portal_view_declares_its_access_rule():
    undeclared = [route for route, view in _portal_views() if not hasattr(view, "access_rule")]
    assert undeclared == []


def test_only_declared_public_views_are_open_to_anonymous_visitors():
    for route, view in _portal_views():
        is_open = getattr(view, "login_required", True) is False
        assert is_open == (view.access_rule == "public"), route
