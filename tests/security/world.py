"""One world for the security tests: two structures with their objects, and the
personas of chorus.access.PERSONAS, built once per module."""

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from approvals import services as approval_services
from chorus.models import Level
from support.models import Category, ChatSession, DocPage, TicketAttachment
from tests import factories
from tests.support.test_tickets import make_ticket


@dataclass
class World:
    users: dict  # persona → user (None for anonymous)
    structure_a: object
    structure_b: object
    service_a: object
    service_b: object
    bank_a: object
    bank_b: object
    attachment_a: object
    attachment_b: object
    member_a: object  # a user attached to A only
    member_b: object
    approval_a: object  # pending request to join A
    approval_b: object
    tickets: dict = field(default_factory=dict)  # persona → their submitted ticket
    ticket_attachments: dict = field(default_factory=dict)  # ticket id → attachment
    chats: dict = field(default_factory=dict)  # persona → their waiting chat session
    doc_slug: str = ""


def build_world() -> World:
    structure_a = factories.StructureFactory(company_name="Structure A")
    structure_b = factories.StructureFactory(company_name="Structure B")
    principal_manager = factories.UserFactory(email="gp.a@exemple.fr")
    factories.attach(principal_manager, structure_a)
    other = factories.UserFactory(email="gp.b@exemple.fr")
    factories.attach(other, structure_b)
    structure_a.refresh_from_db()
    structure_b.refresh_from_db()

    delegate = factories.UserFactory(email="delegue.a@exemple.fr")
    factories.attach(delegate, structure_a)
    factories.grant(delegate, structure_a, "ORGANISATION", Level.MODIFICATION)
    consultation = factories.UserFactory(email="consultation.a@exemple.fr")
    factories.attach(consultation, structure_a)
    factories.grant(consultation, structure_a, "ORGANISATION", Level.CONSULTATION)
    modification = factories.UserFactory(email="factures.a@exemple.fr")
    factories.attach(modification, structure_a)
    factories.grant(modification, structure_a, "FACTURE_EMISE", Level.MODIFICATION)
    member_b = factories.UserFactory(email="membre.b@exemple.fr")
    factories.attach(member_b, structure_b)
    users = {
        "anonymous": None,
        "no_structure": factories.UserFactory(email="seul@exemple.fr"),
        "consultation": consultation,
        "modification": modification,
        "delegate": delegate,
        "principal_manager": principal_manager,
        "other_structure": other,
        "agent": factories.UserFactory(email="agent.support@exemple.fr", is_staff=True),
        "operator": factories.UserFactory(
            email="operateur.portail@exemple.fr", is_staff=True, is_superuser=True
        ),
    }
    world = World(
        users=users,
        structure_a=structure_a,
        structure_b=structure_b,
        service_a=factories.ServiceFactory(structure=structure_a),
        service_b=factories.ServiceFactory(structure=structure_b),
        bank_a=factories.BankAccountFactory(structure=structure_a),
        bank_b=factories.BankAccountFactory(structure=structure_b),
        attachment_a=factories.AttachmentFactory(structure=structure_a),
        attachment_b=factories.AttachmentFactory(structure=structure_b),
        member_a=consultation,
        member_b=member_b,
        approval_a=approval_services.request_attachment(
            requester=factories.UserFactory(email="demande.a@exemple.fr"), structure=structure_a
        ),
        approval_b=approval_services.request_attachment(
            requester=factories.UserFactory(email="demande.b@exemple.fr"), structure=structure_b
        ),
    )
    theme = Category.objects.filter(is_active=True).order_by("order", "pk").first()
    for persona, user in users.items():
        if user is None:
            continue
        ticket = make_ticket(user, structure=_structure_of(world, persona))
        world.tickets[persona] = ticket
        world.ticket_attachments[ticket.pk] = TicketAttachment.objects.create(
            ticket=ticket,
            file=ContentFile(factories.pdf_bytes(), name="piece.pdf"),
            original_name="piece.pdf",
            content_type="application/pdf",
            size=100,
            uploaded_by=user,
        )
        world.chats[persona] = ChatSession.objects.create(user=user, theme=theme)
    world.doc_slug = (
        DocPage.objects.filter(is_published=True).order_by("pk").values_list("slug", flat=True)[0]
    )
    return world


def _structure_of(world, persona):
    if persona in ("consultation", "modification", "delegate", "principal_manager"):
        return world.structure_a
    if persona == "other_structure":
        return world.structure_b
    return None


# URL kwargs: the world's objects of structure A, which is the persona's own structure
# (or the victim's, for the other structure's principal manager). Personal objects
# (tickets, chats) are the persona's own, except for other_structure, who is given
# those of A's consultation user.
def url_kwargs(world, name, kwarg_names, persona) -> dict:
    owner = "consultation" if persona in ("other_structure", "anonymous") else persona
    ticket = world.tickets[owner]
    values = {}
    for kwarg in kwarg_names:
        values[kwarg] = _kwarg(world, name, kwarg, ticket, owner)
    return values


def _kwarg(world, name, kwarg, ticket, owner):
    simple = {
        "structure_pk": world.structure_a.pk,
        "service_pk": world.service_a.pk,
        "user_pk": world.member_a.pk,
        "user_id": world.member_a.pk,
        "attachment_pk": world.ticket_attachments[_ticket_of(world, name, ticket).pk].pk,
        "slug": world.doc_slug,
        "audience": "entreprise",
        "uidb64": "MQ",
        "token": "jeton-invalide",
    }
    if kwarg in simple:
        return simple[kwarg]
    if kwarg == "code":
        return "organisation" if name == "domain" else "GERER_STRUCTURE"
    assert kwarg == "pk", (
        f"No value for the URL argument {kwarg!r} of {name}: add one in tests/security/world.py"
    )
    namespace, _, short = name.partition(":")
    if short.startswith("service_"):
        return world.service_a.pk
    if short.startswith("bank_"):
        return world.bank_a.pk
    if short.startswith("attachment_"):
        return world.attachment_a.pk
    if namespace == "structures":
        return world.structure_a.pk
    if namespace == "approvals":
        return world.approval_a.pk
    if short.startswith(("chat", "agent_chat")):
        return world.chats[owner].pk
    if short.startswith(("agent_", "ticket")):
        return _ticket_of(world, name, ticket).pk
    raise AssertionError(f"No object for the pk of {name}: add one in tests/security/world.py")


def _ticket_of(world, name, own_ticket):
    # Agents work on the tickets users sent; users on their own.
    return world.tickets["consultation"] if name.startswith("support:agent_") else own_ticket


# URL arguments that name one object, whose owner the view must check.
OBJECT_KWARGS = {"pk", "structure_pk", "service_pk", "user_pk", "user_id", "attachment_pk"}
# Query strings some views need to do their work.
QUERY = {"users:member_export": "?format=csv", "support:tickets_export": "?format=csv"}


def portal_patterns(resolver=None, prefix="", namespace=""):
    """(url name, route, pattern) of every portal view; the Django admin is one entry."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                yield "admin:index", route, pattern
                continue
            inner = (
                f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            )
            yield from portal_patterns(pattern, route, inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, route, pattern


def world_in_transaction(django_db_blocker):
    """For a module-scoped fixture: the world is built once per module, inside a
    transaction rolled back at the end; each test runs in a savepoint of it."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)
