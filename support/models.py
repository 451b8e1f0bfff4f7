"""Support: tickets and their activity, live chat with agents, documentation pages."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def translated(value: str) -> str:
    """A queue, category or sub-category name in the user's language. The names the
    support's migration seeds are in the translation catalogue (like the application
    catalogue's); a name an operator adds stays as typed."""
    return gettext(value) if value else ""


class Queue(models.Model):
    """Where tickets wait for agents: portal support or business support."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    recipient = models.CharField(_("destinataire affiché"), max_length=150)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("file d’attente")
        verbose_name_plural = _("files d’attente")
        ordering = ["order", "name"]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return translated(self.name)

    @property
    def recipient_label(self):
        return translated(self.recipient)


class Category(models.Model):
    name = models.CharField(_("nom"), max_length=150, unique=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["order", "name"]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return translated(self.name)


BUSINESS_PREFIX = "M"


class SubCategory(models.Model):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="subcategories", verbose_name=_("catégorie")
    )
    name = models.CharField(_("nom"), max_length=150)
    object_type = models.CharField(
        _("type d’objet"), max_length=60, blank=True, help_text=_("ex. Facture, Structure, Compte")
    )
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sous-catégorie")
        verbose_name_plural = _("sous-catégories")
        ordering = ["category__order", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="subcategory_unique_name_in_category"),
        ]

    def __str__(self):
        return f"{self.category} › {self.label}"

    @property
    def label(self):
        return translated(self.name)

    @property
    def object_type_label(self):
        return translated(self.object_type)

    @property
    def queue_code(self):
        """Sub-categories whose label starts with "M" go to business support."""
        return "metier" if self.name.startswith(BUSINESS_PREFIX) else "portail"


class Ticket(models.Model):
    class Status(models.TextChoices):
        BROUILLON = "BROUILLON", _("Brouillon")
        SOUMIS = "SOUMIS", _("Soumis")
        EN_COURS = "EN_COURS", _("En cours")
        EN_ATTENTE_INFORMATION = "EN_ATTENTE_INFORMATION", _("En attente d’information")
        RESOLU = "RESOLU", _("Résolu")
        CLOTURE = "CLOTURE", _("Clôturé")

    number = models.CharField(_("numéro"), max_length=20, unique=True, null=True, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("demandeur"),
        help_text=_("Vide pour un ticket déposé sans connexion."),
    )
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("structure émettrice"),
    )
    contact_email = models.EmailField(_("adresse de contact"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("catégorie"),
    )
    subcategory = models.ForeignKey(
        SubCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("sous-catégorie"),
    )
    object_type = models.CharField(_("type d’objet"), max_length=60, blank=True)
    object_number = models.CharField(_("numéro de l’objet"), max_length=60, blank=True)
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets", verbose_name=_("file")
    )
    title = models.CharField(_("titre"), max_length=200, blank=True)
    summary = models.CharField(_("résumé"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("statut"), max_length=24, choices=Status.choices, default=Status.BROUILLON)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("agent affecté"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("ouvert le"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturé le"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("dernière activité"), auto_now_add=True, db_index=True)

    # A support request is not a change of its structure: keep it out of that history,
    # which the structure's managers read (a draft's title is the requester's own).
    audit_structure = None

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            # Anything past the draft has been submitted, with its number and routing.
            models.CheckConstraint(
                condition=Q(status="BROUILLON")
                | Q(
                    number__isnull=False,
                    submitted_at__isnull=False,
                    queue__isnull=False,
                    category__isnull=False,
                ),
                name="ticket_submitted_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="CLOTURE") | Q(closed_at__isnull=False), name="ticket_closed_has_date"
            ),
        ]
        indexes = [
            models.Index(fields=["requester", "status"]),
            models.Index(fields=["queue", "status"]),
            # The agents' queues: filtered by status, oldest activity first.
            models.Index(fields=["status", "last_activity_at", "id"], name="ticket_status_activity"),
            # The agents' summary counts the tickets still to handle: this index grows with
            # the open tickets, not with the closed history.
            models.Index(
                fields=["queue", "status"],
                name="ticket_open_queue_status",
                condition=Q(status__in=["SOUMIS", "EN_COURS", "EN_ATTENTE_INFORMATION", "RESOLU"]),
            ),
            # Trigram indexes for number and title search live in migration 0005 (PostgreSQL only).
        ]

    def __str__(self):
        return f"{self.number or _('Brouillon')} — {self.title}"

    @property
    def object_type_label(self):
        return translated(self.object_type)

    @property
    def email_reference(self) -> str:
        """How emails to the contact address name the ticket. A ticket filed without an
        account has an address nobody verified: its emails carry nothing the visitor
        typed, so that the form cannot send someone else a text of the sender's choice."""
        if self.requester_id is None:
            return self.number or ""
        return f"{self.number} « {self.title} »"


class TicketCounter(models.Model):
    """The last ticket number given in a year. A submission locks its year's row to take
    the next number, so two submissions never get the same one; one that rolls back gives
    its number back, and the numbers of a year have no gap."""

    year = models.PositiveSmallIntegerField(_("année"), primary_key=True)
    last = models.PositiveIntegerField(_("dernier numéro attribué"), default=0)

    class Meta:
        verbose_name = _("compteur de tickets")
        verbose_name_plural = _("compteurs de tickets")

    def __str__(self):
        return f"{self.year} : {self.last}"


class TicketEvent(models.Model):
    """One entry of a ticket's Activité timeline."""

    class Kind(models.TextChoices):
        MESSAGE = "MESSAGE", _("Message")
        STATUS = "STATUS", _("Changement de statut")
        NOTE = "NOTE", _("Note interne")
        ASSIGN = "ASSIGN", _("Affectation")
        TRANSFER = "TRANSFER", _("Transfert")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    body = models.TextField(_("texte"), blank=True)
    from_status = models.CharField(
        _("statut avant"), max_length=24, choices=Ticket.Status.choices, blank=True
    )
    to_status = models.CharField(_("statut après"), max_length=24, choices=Ticket.Status.choices, blank=True)
    # Internal notes are for agents only: never shown to the requester.
    is_internal = models.BooleanField(_("interne"), default=False)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("activité")
        verbose_name_plural = _("activités")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.ticket} · {self.get_kind_display()}"


def ticket_upload_to(instance, filename):
    return f"tickets/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("fichier"), upload_to=ticket_upload_to)
    original_name = models.CharField(_("nom"), max_length=50)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("taille"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("déposée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce jointe de ticket")
        verbose_name_plural = _("pièces jointes de tickets")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.original_name


class Rating(models.Model):
    """The requester's satisfaction with a closed ticket, given once."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="rating", verbose_name=_("ticket")
    )
    score = models.PositiveSmallIntegerField(_("note"))
    comment = models.TextField(_("commentaire"), blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("évaluation")
        verbose_name_plural = _("évaluations")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self):
        return f"{self.ticket} : {self.score}/5"


class ChatSession(models.Model):
    """A written conversation between a user and a support agent."""

    class Status(models.TextChoices):
        EN_ATTENTE = "EN_ATTENTE", _("En attente d’un agent")
        EN_COURS = "EN_COURS", _("En cours")
        TERMINE = "TERMINE", _("Terminé")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="chats",
        verbose_name=_("utilisateur"),
    )
    theme = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="chats", verbose_name=_("thème")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agent_chats",
        verbose_name=_("agent"),
    )
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.EN_ATTENTE)
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chats",
        verbose_name=_("ticket"),
    )
    created_at = models.DateTimeField(_("ouvert le"), auto_now_add=True)
    taken_at = models.DateTimeField(_("pris en charge le"), null=True, blank=True)
    ended_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("échange avec un agent")
        verbose_name_plural = _("échanges avec un agent")
        ordering = ["created_at", "id"]
        constraints = [
            # Taken means an agent; a chat its user left before anyone took it ends without one.
            models.CheckConstraint(
                condition=Q(status="EN_ATTENTE")
                | Q(agent__isnull=False)
                | Q(status="TERMINE", taken_at__isnull=True),
                name="chat_taken_has_agent",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.theme} ({self.get_status_display()})"


class ChatMessage(models.Model):
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("échange")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("auteur")
    )
    body = models.TextField(_("message"), max_length=4000)
    created_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"


class DocPage(models.Model):
    """A documentation page, written in Markdown by operators."""

    class Audience(models.TextChoices):
        TOUS = "tous", _("Tous les publics")
        ENTREPRISE = "entreprise", _("Entreprise")
        ENTITE_PUBLIQUE = "entite-publique", _("Entité publique")
        PARTICULIER = "particulier", _("Particulier")
        ASSOCIATION = "association", _("Association")

    slug = models.SlugField(_("adresse"), max_length=120, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    audience = models.CharField(_("public"), max_length=20, choices=Audience.choices, default=Audience.TOUS)
    theme = models.CharField(_("thème"), max_length=120, help_text=_("ex. Factures et demandes de paiement"))
    section = models.CharField(_("rubrique"), max_length=120, help_text=_("ex. Gérer mon compte"))
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    body = models.TextField(_("contenu (Markdown)"))
    application = models.ForeignKey(
        "chorus.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doc_pages",
        verbose_name=_("application documentée"),
        help_text=_("Le lien « i » de cette application ouvre cette page."),
    )
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_published = models.BooleanField(_("publiée"), default=True)
    updated_at = models.DateTimeField(_("mise à jour"), auto_now=True)

    class Meta:
        verbose_name = _("page de documentation")
        verbose_name_plural = _("pages de documentation")
        ordering = ["theme", "section", "order", "title"]

    def __str__(self):
        return self.title
