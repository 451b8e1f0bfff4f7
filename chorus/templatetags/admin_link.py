"""Whether the Django admin is worth a link for this user."""

from django import template
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Q

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_is_useful(context):
    """True when the admin would list at least one application to this user: a staff
    member without any admin permission would only find an empty page. Non-staff users
    cost no query, superusers none either, other staff one: whether they hold any
    permission, directly or through a group, in an application the admin shows (the
    admin's own index would load every permission in two)."""
    request = context.get("request")
    if request is None or not admin.site.has_permission(request):
        return False
    user = request.user
    if user.is_superuser:
        return True
    apps = {model._meta.app_label for model in admin.site._registry}
    return Permission.objects.filter(
        Q(user=user) | Q(group__user=user), content_type__app_label__in=apps
    ).exists()
