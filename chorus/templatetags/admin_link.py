"""Whether the Django admin is worth a link for this user."""

from django import template
from django.contrib import admin

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_is_useful(context):
    """True when the admin would list at least one application to this user: a staff
    member without any admin permission would only find an empty page. Non-staff users
    cost no query (has_permission checks the flags first)."""
    request = context.get("request")
    if request is None or not admin.site.has_permission(request):
        return False
    return bool(admin.site.get_app_list(request))
