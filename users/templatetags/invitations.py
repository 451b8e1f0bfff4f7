"""The card of the user's pending invitations, shown on the home page."""

from django import template

from users.selectors import invitations_pending_for

register = template.Library()


@register.inclusion_tag("users/invitations/_card.html", takes_context=True)
def pending_invitations_card(context):
    user = context["request"].user
    invitations = list(invitations_pending_for(user=user)) if user.is_authenticated else []
    return {"invitations": invitations, "next": "home", "csrf_token": context.get("csrf_token")}
