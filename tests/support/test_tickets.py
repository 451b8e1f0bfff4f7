"""Support, the requester's side: Nous contacter, Créer un ticket (submission, draft,
bad input, attachments), the ticket page with its Activité, the requester's actions
(complement, accept, refuse, close, rate), drafts, the logged-out form; with the
permission matrix of every view and the emails sent."""

import itertools
import re
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent
from support.forms import tickets as ticket_forms
from support.models import Category, Queue, Rating, SubCategory, Ticket, TicketAttachment, TicketEvent
from tests import factories

S = Ticket.Status
CONTACT_URL = "/support/"
CREATE_URL = "/support/tickets/nouveau/"
LIST_URL = "/support/tickets/"
PUBLIC_URL = "/support/contact/"
NUMBER = re.compile(r"^T-\d{4}-\d{6}$")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64

_numbers = itertools.count(1)


# Helpers shared with the other test_tickets* modules


def subcategory(name="Déposer une facture") -> SubCategory:
    """A seeded sub-category (support/migrations/0002_categories.py)."""
    return SubCategory.objects.select_related("category").get(name=name)


def make_ticket(requester, status=S.SOUMIS, *, sub=None, **fields) -> Ticket:
    """A ticket in any status, built with the ORM (the pages are tested elsewhere)."""
    sub = sub or subcategory()
    now = timezone.now()
    values = {
        "requester": requester,
        "status": status,
        "contact_email": requester.email if requester else "sans-compte@exemple.fr",
        "category": sub.category,
        "subcategory": sub,
        "object_type": sub.object_type,
        "queue": Queue.objects.get(code=sub.queue_code),
        "title": "Facture bloquée",
        "description": "Ma facture reste au statut déposée.",
    }
    if status != S.BROUILLON:
        values.update(number=f"T-1999-{next(_numbers):06d}", submitted_at=now)
    if status == S.RESOLU:
        values["resolved_at"] = now
    if status == S.CLOTURE:
        values["closed_at"] = now
    values.update(fields)
    return Ticket.objects.create(**values)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def pdf(name="facture.pdf"):
    return SimpleUploadedFile(name, factories.pdf_bytes(), content_type="application/pdf")


def submit_data(sub=None, **changes):
    sub = sub or subcategory()
    data = {
        "category": sub.category_id,
        "subcategory": sub.pk,
        "object_number": "FAC-2026-0042",
        "contact_email": "contact@exemple.fr",
        "phone": "01 02 03 04 05",
        "title": "Facture bloquée au statut déposée",
        "summary": "La facture n’avance pas depuis dix jours.",
        "description": "J’ai déposé la facture FAC-2026-0042 le 2 mars ; elle est toujours déposée.",
        "action": "submit",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def requester(structure, principal_manager):
    user = factories.UserFactory(email="demandeur@exemple.fr", first_name="Lucas", last_name="Petit")
    factories.attach(user, structure)
    return user


@pytest.fixture
def loose_user(db):
    """A portal user attached to no structure."""
    return factories.UserFactory(email="seul@exemple.fr")


# URLs


def test_urls_are_french_and_named():
    assert reverse("support:contact") == CONTACT_URL
    assert reverse("support:ticket_create") == CREATE_URL
    assert reverse("support:tickets") == LIST_URL
    assert reverse("support:tickets_export") == "/support/tickets/export/"
    assert reverse("support:ticket_detail", args=[3]) == "/support/tickets/3/"
    assert reverse("support:ticket_edit", args=[3]) == "/support/tickets/3/modifier/"
    assert reverse("support:ticket_delete", args=[3]) == "/support/tickets/3/supprimer/"
    assert reverse("support:ticket_answer", args=[3]) == "/support/tickets/3/complement/"
    assert reverse("support:ticket_accept", args=[3]) == "/support/tickets/3/accepter/"
    assert reverse("support:ticket_refuse", args=[3]) == "/support/tickets/3/refuser/"
    assert reverse("support:ticket_close", args=[3]) == "/support/tickets/3/cloturer/"
    assert reverse("support:ticket_rate", args=[3]) == "/support/tickets/3/evaluer/"
    assert reverse("support:ticket_attachment", args=[3, 4]) == "/support/tickets/3/pieces-jointes/4/"
    assert reverse("support:public_ticket") == PUBLIC_URL


# Seed (support/migrations/0002_categories.py)


def test_seed_routes_sub_categories_starting_with_m_to_business_support(db):
    assert dict(Queue.objects.values_list("code", "recipient")) == {
        "portail": "Support du portail",
        "metier": "Support métier (AIFE)",
    }
    names = set(Category.objects.values_list("name", flat=True))
    assert {
        "Factures émises",
        "Factures reçues",
        "Compte et connexion",
        "Structures et utilisateurs",
        "Mémoires de frais de justice",
        "Coordonnées bancaires",
    } <= names
    assert subcategory("Désigner un nouveau gestionnaire principal").queue_code == "portail"
    assert subcategory("Motif de rejet d’une facture").queue_code == "metier"
    assert subcategory("Mise en paiement").queue_code == "metier"
    for category in Category.objects.prefetch_related("subcategories"):
        assert 3 <= category.subcategories.count() <= 5, category
        assert all(sub.object_type for sub in category.subcategories.all())


# Nous contacter


def test_contact_page_offers_the_three_ways_to_get_help(client, requester):
    client.force_login(requester)
    response = client.get(CONTACT_URL)
    assert response.status_code == 200
    html = response.text
    for title in ("Assistant virtuel", "Échange avec un agent", "Créer un ticket"):
        assert f'<h2 class="fr-card__title">{title}</h2>' in html
    assert f'href="{CREATE_URL}"' in html
    # The assistant's panel opens in place when the page has it; the documentation meanwhile.
    assert f'href="{reverse("support:docs")}" data-open-assistant' in html


def test_contact_page_links_the_chat(client, requester):
    client.force_login(requester)
    assert f'href="{reverse("support:chat_start")}"' in client.get(CONTACT_URL).text


def test_anonymous_visitor_is_sent_to_login_from_contact(client, db):
    response = client.get(CONTACT_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


# Créer un ticket


def test_create_form_prefills_contact_details_and_only_my_structures(client, requester, structure):
    other = factories.StructureFactory(company_name="Pas la mienne")
    requester.contact_email = "lucas.contact@exemple.fr"
    requester.phone = "06 00 00 00 00"
    requester.save()
    client.force_login(requester)
    response = client.get(CREATE_URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["contact_email"].value() == "lucas.contact@exemple.fr"
    assert form["phone"].value() == "06 00 00 00 00"
    assert list(form.fields["structure"].queryset) == [structure]
    assert form["structure"].value() == structure.pk  # my only structure, preselected
    assert other.identifier not in response.text
    html = response.text
    for label in ("Soumettre", "Enregistrer le brouillon", "Quitter sans enregistrer"):
        assert label in html
    assert "data-warn-unsaved" in html
    assert "formnovalidate" in html


def test_requester_submits_a_ticket_routed_to_portal_support(
    client, requester, structure, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(requester)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE_URL, submit_data(structure=structure.pk))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("support:ticket_detail", args=[ticket.pk])
    assert ticket.status == S.SOUMIS
    assert NUMBER.match(ticket.number)
    assert ticket.requester == requester
    assert ticket.structure == structure
    assert ticket.queue.code == "portail"
    assert ticket.object_type == "Facture"
    assert ticket.object_number == "FAC-2026-0042"
    assert ticket.contact_email == "contact@exemple.fr"
    assert ticket.submitted_at is not None
    assert list(ticket.events.values_list("kind", "from_status", "to_status")) == [
        ("STATUS", S.BROUILLON, S.SOUMIS)
    ]
    assert set(
        AuditEvent.objects.filter(object_type="support.Ticket", object_id=str(ticket.pk)).values_list(
            "action", flat=True
        )
    ) == {"ticket_submit"}
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["contact@exemple.fr"]
    assert ticket.number in mailoutbox[0].subject
    assert "Support du portail" in mailoutbox[0].body
    follow = client.get(response.url)
    assert f"Votre ticket {ticket.number} a été soumis au Support du portail." in messages_of(follow)[0]


def test_sub_category_starting_with_m_goes_to_business_support(client, requester, structure):
    client.force_login(requester)
    client.post(
        CREATE_URL, submit_data(sub=subcategory("Motif de rejet d’une facture"), structure=structure.pk)
    )
    ticket = Ticket.objects.get()
    assert ticket.queue.code == "metier"
    assert ticket.queue.recipient == "Support métier (AIFE)"


def test_user_without_structure_submits_without_emitter_structure(client, loose_user):
    client.force_login(loose_user)
    response = client.get(CREATE_URL)
    assert "structure" not in response.context["form"].fields
    assert "Vous n’êtes rattaché à aucune structure" in response.text
    response = client.post(CREATE_URL, submit_data())
    assert response.status_code == 302
    assert Ticket.objects.get().structure is None


def test_submission_without_category_or_description_is_refused(client, requester, structure):
    client.force_login(requester)
    response = client.post(
        CREATE_URL, submit_data(structure=structure.pk, category="", subcategory="", description="")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["category"] == ["Choisissez une catégorie."]
    assert errors["subcategory"] == ["Choisissez une sous-catégorie."]
    assert errors["description"] == ["Décrivez votre demande."]
    assert not Ticket.objects.exists()


def test_submission_requires_my_structure_when_i_have_one(client, requester):
    client.force_login(requester)
    response = client.post(CREATE_URL, submit_data())
    assert response.context["form"].errors["structure"] == ["Choisissez la structure émettrice."]
    assert not Ticket.objects.exists()


def test_another_structure_as_emitter_is_refused(client, requester):
    other = factories.StructureFactory()
    client.force_login(requester)
    response = client.post(CREATE_URL, submit_data(structure=other.pk))
    assert response.status_code == 200
    assert "structure" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_sub_category_of_another_category_is_refused(client, requester, structure):
    client.force_login(requester)
    wrong = subcategory("Créer mon compte")
    data = submit_data(structure=structure.pk, subcategory=wrong.pk)
    response = client.post(CREATE_URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors["subcategory"] == [
        "Cette sous-catégorie n’appartient pas à la catégorie « Factures émises »."
    ]
    assert not Ticket.objects.exists()
    # A draft is refused as well: the pair is never stored inconsistent.
    response = client.post(CREATE_URL, {**data, "action": "draft"})
    assert "subcategory" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_inactive_sub_category_is_refused(client, requester, structure):
    sub = subcategory()
    sub.is_active = False
    sub.save()
    client.force_login(requester)
    response = client.post(CREATE_URL, submit_data(sub=sub, structure=structure.pk))
    assert "subcategory" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_ticket_with_attachments_stores_them_privately(client, requester, structure):
    client.force_login(requester)
    files = [pdf("facture.pdf"), SimpleUploadedFile("capture.png", PNG)]
    response = client.post(CREATE_URL, {**submit_data(structure=structure.pk), "files": files})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    attachments = list(ticket.attachments.order_by("original_name"))
    assert [a.original_name for a in attachments] == ["capture.png", "facture.pdf"]
    assert attachments[1].content_type == "application/pdf"
    assert attachments[1].uploaded_by == requester
    assert all(default_storage.exists(a.file.name) for a in attachments)
    assert all("facture" not in a.file.name for a in attachments)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            lambda: SimpleUploadedFile("faux.pdf", b"<html>pas un pdf</html>"),
            "« faux.pdf » : Le fichier n’est pas un PDF valide.",
        ),
        (lambda: SimpleUploadedFile("image.pdf", PNG), "« image.pdf » : Le fichier n’est pas un PDF valide."),
        (
            lambda: SimpleUploadedFile("script.html", b"<script>alert(1)</script>"),
            "« script.html » : Ce type de fichier n’est pas accepté.",
        ),
    ],
)
def test_disguised_attachment_is_refused_and_nothing_is_created(
    client, requester, structure, upload, message
):
    client.force_login(requester)
    response = client.post(CREATE_URL, {**submit_data(structure=structure.pk), "files": [pdf(), upload()]})
    assert response.status_code == 200
    errors = response.context["form"].errors["files"]
    assert any(error.startswith(message) for error in errors), errors
    assert not Ticket.objects.exists()
    assert not TicketAttachment.objects.exists()


def test_oversized_attachment_is_refused(client, requester, structure, monkeypatch):
    from core import uploads

    monkeypatch.setattr(uploads, "MAX_UPLOAD_SIZE", 100)
    client.force_login(requester)
    response = client.post(CREATE_URL, {**submit_data(structure=structure.pk), "files": [pdf("gros.pdf")]})
    assert response.context["form"].errors["files"] == ["« gros.pdf » : Le fichier dépasse 10 Mo."]
    assert not Ticket.objects.exists()


def test_too_many_attachments_are_refused(client, requester, structure):
    client.force_login(requester)
    files = [pdf(f"f{n}.pdf") for n in range(ticket_forms.MAX_FILES + 1)]
    response = client.post(CREATE_URL, {**submit_data(structure=structure.pk), "files": files})
    assert response.context["form"].errors["files"] == ["Joignez 10 fichiers au plus."]
    assert not Ticket.objects.exists()


def test_two_step_get_shows_the_sub_categories_of_the_chosen_category(client, requester):
    client.force_login(requester)
    response = client.get(CREATE_URL)
    choices = [value for value, _label in response.context["form"].fields["subcategory"].widget.choices]
    assert choices == [""]
    assert "Choisissez d’abord une catégorie" in response.text
    category = Category.objects.get(name="Coordonnées bancaires")
    response = client.get(CREATE_URL, {"category": category.pk})
    form = response.context["form"]
    labels = [str(label) for _value, label in form.fields["subcategory"].widget.choices][1:]
    assert labels == list(category.subcategories.order_by("order").values_list("name", flat=True))
    assert f'<input type="hidden" name="category" value="{category.pk}" data-category-value>' in response.text
    # The script has what it needs to filter without reloading.
    assert 'id="ticket-routing"' in response.text
    routing = form.routing[str(category.pk)]
    assert {
        "name": "Modification des coordonnées bancaires (RIB)",
        "recipient": "Support métier (AIFE)",
    }.items() <= next(option for option in routing if option["name"].startswith("Modification")).items()


def test_object_type_and_recipient_are_shown_from_the_sub_category(client, requester):
    client.force_login(requester)
    sub = subcategory("Mise en paiement")
    response = client.get(CREATE_URL, {"category": sub.category_id, "subcategory": sub.pk})
    assert 'id="type-objet" value="Facture" readonly' in response.text
    assert 'id="destinataire" value="Support métier (AIFE)" readonly' in response.text


# Drafts


def test_requester_saves_a_partial_draft(client, requester):
    client.force_login(requester)
    response = client.post(CREATE_URL, {"title": "À compléter", "contact_email": "", "action": "draft"})
    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?tab=brouillons"
    ticket = Ticket.objects.get()
    assert ticket.status == S.BROUILLON
    assert ticket.number is None
    assert ticket.title == "À compléter"
    assert ticket.category is None
    assert ticket.queue is None
    assert not ticket.events.exists()
    assert "Le brouillon a été enregistré" in messages_of(client.get(response.url))[0]


def test_requester_completes_and_submits_a_draft(
    client, requester, structure, mailoutbox, django_capture_on_commit_callbacks
):
    draft = make_ticket(requester, S.BROUILLON, title="Brouillon", description="", structure=None)
    client.force_login(requester)
    edit_url = reverse("support:ticket_edit", args=[draft.pk])
    response = client.get(edit_url)
    assert response.context["form"]["title"].value() == "Brouillon"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url, submit_data(structure=structure.pk, title="Soumis enfin"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.SOUMIS
    assert draft.title == "Soumis enfin"
    assert NUMBER.match(draft.number)
    assert len(mailoutbox) == 1


def test_incomplete_draft_cannot_be_submitted(client, requester, structure):
    draft = make_ticket(requester, S.BROUILLON, description="")
    client.force_login(requester)
    response = client.post(
        reverse("support:ticket_edit", args=[draft.pk]), submit_data(structure=structure.pk, description="")
    )
    assert response.context["form"].errors["description"] == ["Décrivez votre demande."]
    draft.refresh_from_db()
    assert draft.status == S.BROUILLON
    assert draft.number is None


def test_submitted_ticket_cannot_be_edited(client, requester, structure):
    ticket = make_ticket(requester, S.SOUMIS)
    client.force_login(requester)
    response = client.post(
        reverse("support:ticket_edit", args=[ticket.pk]), submit_data(structure=structure.pk, title="Changé")
    )
    assert response.status_code == 302
    assert "Ce ticket a déjà été soumis : il ne peut plus être modifié." in messages_of(
        client.get(response.url)
    )
    ticket.refresh_from_db()
    assert ticket.title == "Facture bloquée"


def test_requester_deletes_a_draft_with_its_files(client, requester):
    draft = make_ticket(requester, S.BROUILLON)
    attachment = TicketAttachment(ticket=draft, original_name="a.pdf", content_type="application/pdf", size=3)
    attachment.file.save("a.pdf", SimpleUploadedFile("a.pdf", b"pdf"), save=True)
    client.force_login(requester)
    url = reverse("support:ticket_delete", args=[draft.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"answer": "non"})
    assert Ticket.objects.filter(pk=draft.pk).exists()
    response = client.post(url, {"answer": "oui"})
    assert response.status_code == 302
    assert not Ticket.objects.exists()
    assert AuditEvent.objects.filter(
        action="ticket_delete", object_type="support.Ticket", object_id=str(draft.pk)
    ).exists()


def test_submitted_ticket_cannot_be_deleted(client, requester):
    ticket = make_ticket(requester, S.SOUMIS)
    client.force_login(requester)
    response = client.post(reverse("support:ticket_delete", args=[ticket.pk]), {"answer": "oui"})
    assert response.status_code == 302
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_draft_of_another_user_is_not_found(client, requester, other_structure_user):
    draft = make_ticket(requester, S.BROUILLON)
    client.force_login(other_structure_user)
    for name in ("support:ticket_edit", "support:ticket_delete", "support:ticket_detail"):
        assert client.get(reverse(name, args=[draft.pk])).status_code == 404
    assert (
        client.post(reverse("support:ticket_delete", args=[draft.pk]), {"answer": "oui"}).status_code == 404
    )
    assert Ticket.objects.filter(pk=draft.pk).exists()


def test_principal_manager_does_not_see_a_users_draft(client, requester, principal_manager):
    draft = make_ticket(requester, S.BROUILLON, structure=requester.memberships.get().structure)
    client.force_login(principal_manager)
    assert client.get(reverse("support:ticket_detail", args=[draft.pk])).status_code == 404


# The ticket page: permission matrix


@pytest.fixture
def ticket(requester, structure):
    return make_ticket(requester, S.EN_COURS, structure=structure)


def _persona(name, request):
    if name == "anonymous":
        return None
    if name == "superuser":
        return factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True)
    return request.getfixturevalue(name)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("requester", 200),
        ("principal_manager", 200),  # read-only, their structure's ticket
        ("delegate", 200),  # Organisation – modification
        ("consultation_user", 404),  # same structure, does not administer it
        ("other_structure_user", 404),
        ("staff_user", 404),  # agents work from Tickets reçus
        ("superuser", 403),  # operators are not portal users
        ("anonymous", 302),
    ],
)
def test_ticket_page_permission_matrix(client, request, ticket, persona, expected):
    user = _persona(persona, request)
    if user:
        client.force_login(user)
    response = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert response.status_code == expected
    if expected == 302:
        assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize(
    "name", ["ticket_answer", "ticket_accept", "ticket_refuse", "ticket_close", "ticket_rate"]
)
@pytest.mark.parametrize("persona", ["principal_manager", "other_structure_user", "staff_user"])
def test_only_the_requester_acts_on_a_ticket(client, request, ticket, name, persona):
    client.force_login(_persona(persona, request))
    url = reverse(f"support:{name}", args=[ticket.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"message": "Je m’en mêle", "score": 5}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.EN_COURS
    assert not ticket.events.exists()


def test_anonymous_visitor_is_sent_to_login_from_every_requester_page(client, ticket):
    for url in (
        LIST_URL,
        CREATE_URL,
        reverse("support:tickets_export") + "?format=csv",
        reverse("support:ticket_close", args=[ticket.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("users:login"))


def test_ticket_page_shows_summary_content_and_actions(client, requester, ticket):
    client.force_login(requester)
    response = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    html = response.text
    assert response.context["page_title"] == f"Ticket {ticket.number}"
    for text in (
        "Factures émises",
        "Déposer une facture",
        "En cours",
        "Ma facture reste au statut déposée.",
        "Support du portail",
    ):
        assert text in html
    assert [str(action["label"]) for action in response.context["actions"]] == ["Clôturer"]


def test_manager_reads_the_ticket_without_actions(client, principal_manager, ticket):
    client.force_login(principal_manager)
    response = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert response.context["actions"] == []
    assert "consultation seule" in response.text


def test_timeline_is_newest_first_and_never_shows_internal_notes(client, requester, ticket, staff_user):
    TicketEvent.objects.create(ticket=ticket, author=staff_user, kind="MESSAGE", body="Premier message")
    TicketEvent.objects.create(
        ticket=ticket, author=staff_user, kind="NOTE", body="Note secrète de l’agent", is_internal=True
    )
    TicketEvent.objects.create(ticket=ticket, author=requester, kind="MESSAGE", body="Dernier message")
    note = TicketEvent.objects.create(
        ticket=ticket, author=staff_user, kind="MESSAGE", body="Interne aussi", is_internal=True
    )
    hidden = TicketAttachment(
        ticket=ticket, event=note, original_name="interne.pdf", content_type="application/pdf", size=3
    )
    hidden.file.save("interne.pdf", SimpleUploadedFile("interne.pdf", b"pdf"), save=True)
    client.force_login(requester)
    response = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    bodies = [entry["body"] for entry in response.context["events"]]
    assert bodies == ["Dernier message", "Premier message"]
    assert "Note secrète" not in response.text
    assert "Interne aussi" not in response.text
    assert "interne.pdf" not in response.text
    assert [entry["who"] for entry in response.context["events"]] == ["Vous", f"{staff_user} (support)"]
    download = reverse("support:ticket_attachment", args=[ticket.pk, hidden.pk])
    assert client.get(download).status_code == 404


def test_attachment_download_checks_access(
    client, requester, ticket, other_structure_user, principal_manager
):
    attachment = TicketAttachment(
        ticket=ticket, original_name="facture.pdf", content_type="application/pdf", size=3
    )
    attachment.file.save("x", SimpleUploadedFile("x", b"pdf"), save=True)
    url = reverse("support:ticket_attachment", args=[ticket.pk, attachment.pk])
    client.force_login(requester)
    response = client.get(url)
    assert response.status_code == 200
    assert 'attachment; filename="facture.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(principal_manager)
    assert client.get(url).status_code == 200
    client.force_login(other_structure_user)
    assert client.get(url).status_code == 404
    other_ticket = make_ticket(other_structure_user)
    client.force_login(requester)
    assert (
        client.get(reverse("support:ticket_attachment", args=[other_ticket.pk, attachment.pk])).status_code
        == 404
    )


# The requester's actions


def test_requester_brings_information_with_a_file_and_the_agent_is_told(
    client, requester, structure, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = make_ticket(requester, S.EN_ATTENTE_INFORMATION, structure=structure, assigned_to=staff_user)
    client.force_login(requester)
    url = reverse("support:ticket_answer", args=[ticket.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"message": "Voici le bon de commande.", "files": [pdf("bon.pdf")]})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.EN_COURS
    message = ticket.events.get(kind="MESSAGE")
    assert message.body == "Voici le bon de commande."
    assert message.author == requester
    assert ticket.attachments.get().event == message
    assert [mail.to for mail in mailoutbox] == [[staff_user.email]]
    assert "Voici le bon de commande." in mailoutbox[0].body
    assert ticket.number in mailoutbox[0].subject


def test_empty_complement_is_refused(client, requester):
    ticket = make_ticket(requester, S.EN_ATTENTE_INFORMATION)
    client.force_login(requester)
    response = client.post(reverse("support:ticket_answer", args=[ticket.pk]), {"message": ""})
    assert response.context["form"].errors["message"] == ["Écrivez votre complément d’information."]
    ticket.refresh_from_db()
    assert ticket.status == S.EN_ATTENTE_INFORMATION
    assert not ticket.events.exists()


def test_complement_with_a_disguised_file_changes_nothing(client, requester):
    ticket = make_ticket(requester, S.EN_ATTENTE_INFORMATION)
    client.force_login(requester)
    response = client.post(
        reverse("support:ticket_answer", args=[ticket.pk]),
        {"message": "Voici", "files": [SimpleUploadedFile("faux.pdf", b"MZ\x90\x00")]},
    )
    assert response.context["form"].errors["files"] == ["« faux.pdf » : Le fichier n’est pas un PDF valide."]
    ticket.refresh_from_db()
    assert ticket.status == S.EN_ATTENTE_INFORMATION
    assert not ticket.events.exists()
    assert not TicketAttachment.objects.exists()


def test_requester_accepts_the_solution_and_the_ticket_is_closed(
    client, requester, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = make_ticket(requester, S.RESOLU, assigned_to=staff_user)
    client.force_login(requester)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("support:ticket_accept", args=[ticket.pk]), {"message": ""})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOTURE
    assert ticket.closed_at is not None
    assert len(mailoutbox) == 1
    follow = client.get(response.url)
    assert f"Vous avez accepté la solution : le ticket {ticket.number} est clôturé." in messages_of(follow)[0]
    assert "Évaluer la réponse du support" in follow.text


def test_requester_refuses_the_solution_with_a_comment(client, requester):
    ticket = make_ticket(requester, S.RESOLU)
    client.force_login(requester)
    url = reverse("support:ticket_refuse", args=[ticket.pk])
    response = client.post(url, {"message": ""})
    assert response.context["form"].errors["message"] == [
        "Expliquez pourquoi la solution ne vous convient pas."
    ]
    ticket.refresh_from_db()
    assert ticket.status == S.RESOLU
    response = client.post(url, {"message": "La facture est toujours bloquée."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.EN_COURS
    assert ticket.events.get(kind="MESSAGE").body == "La facture est toujours bloquée."


@pytest.mark.parametrize("status", [S.SOUMIS, S.EN_COURS, S.EN_ATTENTE_INFORMATION])
def test_requester_closes_an_open_ticket(client, requester, status):
    ticket = make_ticket(requester, status)
    client.force_login(requester)
    response = client.post(
        reverse("support:ticket_close", args=[ticket.pk]), {"message": "Résolu de mon côté."}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOTURE


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("ticket_answer", S.EN_COURS),
        ("ticket_accept", S.EN_COURS),
        ("ticket_refuse", S.EN_ATTENTE_INFORMATION),
        ("ticket_close", S.RESOLU),
        ("ticket_close", S.CLOTURE),
        ("ticket_rate", S.RESOLU),
    ],
)
def test_action_not_allowed_in_this_status_is_refused(client, requester, name, status):
    ticket = make_ticket(requester, status)
    client.force_login(requester)
    url = reverse(f"support:{name}", args=[ticket.pk])
    response = client.post(url, {"message": "Quand même", "score": 5})
    assert response.status_code == 200
    assert response.context["refusal"]
    assert "Action impossible" in response.text or "évaluer" in response.text
    ticket.refresh_from_db()
    assert ticket.status == status
    assert not ticket.events.exists()
    assert not Rating.objects.exists()


def test_requester_rates_a_closed_ticket_once(client, requester, ticket):
    closed = make_ticket(requester, S.CLOTURE)
    client.force_login(requester)
    url = reverse("support:ticket_rate", args=[closed.pk])
    response = client.post(url, {"score": "", "comment": ""})
    assert response.context["form"].errors["score"] == ["Choisissez une note de 1 à 5."]
    response = client.post(url, {"score": "9"})
    assert "score" in response.context["form"].errors
    assert not Rating.objects.exists()
    response = client.post(url, {"score": "4", "comment": "Rapide et clair."})
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.ticket, rating.score, rating.comment) == (closed, 4, "Rapide et clair.")
    detail = client.get(response.url)
    assert "Note : 4 sur 5" in detail.text
    assert "Évaluer la réponse du support" not in [str(a["label"]) for a in detail.context["actions"]]
    response = client.post(url, {"score": "1", "comment": "Finalement non."})
    assert response.status_code == 200
    assert "Vous avez déjà évalué ce ticket" in response.text
    rating.refresh_from_db()
    assert rating.score == 4
    assert Rating.objects.count() == 1


def test_second_rating_is_refused_by_the_service_too(requester):
    from support.services import tickets as ticket_services

    closed = make_ticket(requester, S.CLOTURE)
    ticket_services.ticket_rate(ticket_id=closed.pk, requester=requester, score=5)
    with pytest.raises(ticket_services.TicketError) as refused:
        ticket_services.ticket_rate(ticket_id=closed.pk, requester=requester, score=1)
    assert "déjà évalué" in str(refused.value.message)
    assert Rating.objects.get().score == 5


# Logged-out form


def _public_data(**changes):
    sub = subcategory("Compte bloqué ou mot de passe oublié")
    data = {
        "category": sub.category_id,
        "subcategory": sub.pk,
        "email": "sans.compte@exemple.fr",
        "title": "Je ne peux plus me connecter",
        "description": "Mon compte est bloqué depuis hier.",
        "answer": "7",
        "challenge": ticket_forms.challenge_token(3, 4, issued_at=time.time() - 30),
        "website": "",
    }
    data.update(changes)
    return data


def test_public_form_is_open_to_anonymous_visitors(client, db):
    response = client.get(PUBLIC_URL)
    assert response.status_code == 200
    assert re.search(r"Vérification : combien font \d \+ \d ?", response.text)
    assert "Soumettre" in response.text


def test_anonymous_visitor_files_a_ticket_and_gets_its_number(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PUBLIC_URL, _public_data())
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester is None
    assert ticket.status == S.SOUMIS
    assert ticket.contact_email == "sans.compte@exemple.fr"
    assert ticket.queue.code == "portail"
    assert NUMBER.match(ticket.number)
    done = client.get(response.url)
    assert f"Votre ticket porte le numéro {ticket.number}" in done.text
    assert [mail.to for mail in mailoutbox] == [["sans.compte@exemple.fr"]]
    assert ticket.number in mailoutbox[0].subject
    assert "Les réponses du support vous parviendront à cette adresse" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"answer": "8"}, "answer", "Le résultat n’est pas le bon : vérifiez votre calcul."),
        ({"answer": ""}, "answer", "Répondez à la question de vérification."),
        ({"website": "http://spam.example"}, "__all__", "Votre demande n’a pas pu être envoyée."),
        (
            lambda: {"challenge": ticket_forms.challenge_token(3, 4, issued_at=time.time())},
            "__all__",
            "Le formulaire a été envoyé trop vite : vérifiez vos informations puis soumettez-le à nouveau.",
        ),
        ({"challenge": "falsifié"}, "answer", "La vérification a expiré : répondez à la nouvelle question."),
        (
            lambda: {"challenge": ticket_forms.challenge_token(3, 4, issued_at=time.time() - 2 * 3600)},
            "answer",
            "La vérification a expiré : répondez à la nouvelle question.",
        ),
        ({"category": ""}, "category", "Choisissez une catégorie."),
        ({"description": ""}, "description", "Décrivez votre demande."),
        ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse de courriel valide."),
    ],
)
def test_public_form_refuses_bots_and_bad_input(client, db, mailoutbox, changes, field, message):
    # Time-dependent values are computed when the test runs, not when it is collected.
    changes = changes() if callable(changes) else changes
    response = client.post(PUBLIC_URL, _public_data(**changes))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not Ticket.objects.exists()
    assert mailoutbox == []


def test_public_form_refuses_a_sub_category_of_another_category(client, db):
    response = client.post(PUBLIC_URL, _public_data(subcategory=subcategory("Mise en paiement").pk))
    assert "subcategory" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_public_confirmation_without_a_ticket_goes_back_to_the_form(client, db):
    response = client.get(reverse("support:public_ticket_done"))
    assert response.status_code == 302
    assert response.url == PUBLIC_URL
