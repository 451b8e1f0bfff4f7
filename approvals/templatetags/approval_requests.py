"""The user's own pending requests, for pages outside the approvals app (the home page)."""

from django import template

from approvals.selectors import pending_requests_of

register = template.Library()


@register.simple_tag(takes_context=True)
def my_pending_requests(context, kind=""):
    """{% my_pending_requests "RATTACHEMENT" as pending %}: one query."""
    user = context["request"].user
    if not user.is_authenticated:
        return []
    pending, _more = pending_requests_of(user=user)
    return [request for request in pending if not kind or request.kind == kind]
