"""Shared builders of the approvals tests."""

from approvals import services
from tests import factories


def newcomer(email="nouveau@exemple.fr"):
    """A user attached to nothing, who asks to join."""
    return factories.UserFactory(email=email, first_name="Emma", last_name="Durand")


def pending_attachment(structure, requester=None, services_=(), comment="Je suis comptable."):
    requester = requester or newcomer()
    return services.request_attachment(
        requester=requester, structure=structure, services=services_, comment=comment
    )
