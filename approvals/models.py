"""Approbations: a user asks to be attached to a structure (or some of its services) or
to get profiles; an approver of the structure (its principal manager or a delegated
administrator) approves or refuses, once."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

NUMBER_PREFIX = "DEM-"


class ApprovalRequest(models.Model):
    class Kind(models.TextChoices):
        RATTACHEMENT = "RATTACHEMENT", _("Rattachement")
        HABILITATIONS = "HABILITATIONS", _("Gérer les habilitations")

    class Status(models.TextChoices):
        EN_ATTENTE = "EN_ATTENTE", _("En attente")
        APPROUVEE = "APPROUVEE", _("Approuvée")
        REFUSEE = "REFUSEE", _("Refusée")

    kind = models.CharField(_("type de demande"), max_length=16, choices=Kind.choices)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="approval_requests",
        verbose_name=_("demandeur"),
    )
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.CASCADE,
        related_name="approval_requests",
        verbose_name=_("structure"),
    )
    # Attachment: empty means the whole structure (maille structure).
    services = models.ManyToManyField(
        "structures.Service",
        blank=True,
        related_name="attachment_requests",
        verbose_name=_("services demandés"),
        help_text=_("Vide : maille structure (toute la structure)."),
    )
    # Profiles: the service they apply to, empty for the whole structure.
    service = models.ForeignKey(
        "structures.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="profile_requests",
        verbose_name=_("service"),
    )
    profiles_to_add = models.ManyToManyField(
        "chorus.Profile", blank=True, related_name="+", verbose_name=_("profils à ajouter")
    )
    profiles_to_remove = models.ManyToManyField(
        "chorus.Profile", blank=True, related_name="+", verbose_name=_("profils à retirer")
    )
    comment = models.TextField(_("commentaire du demandeur"), blank=True)
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.EN_ATTENTE)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidée par"),
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    reason = models.TextField(_("motif du refus"), blank=True)
    # A structure nobody is attached to has no approver: the request is granted at once.
    granted_at_once = models.BooleanField(_("accordée d’emblée"), default=False)
    # When the approvers' digest mentioned it (approvals_digest command).
    notified_at = models.DateTimeField(_("signalée aux approbateurs le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("demande d’approbation")
        verbose_name_plural = _("demandes d’approbation")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "structure"], name="approval_status_structure"),
            # The inbox: pending requests of some structures, oldest first.
            models.Index(
                fields=["structure", "created_at"],
                condition=Q(status="EN_ATTENTE"),
                name="approval_pending_inbox",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="EN_ATTENTE", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="EN_ATTENTE") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="approval_decided_has_approver_and_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="REFUSEE") | Q(GreaterThan(Length(Trim("reason")), 0)),
                name="approval_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(kind="HABILITATIONS") | Q(service__isnull=True),
                name="approval_service_only_for_profiles",
            ),
        ]

    def __str__(self):
        return f"{self.number} — {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def number(self):
        """The number users quote: DEM-000123."""
        return f"{NUMBER_PREFIX}{self.pk:06d}" if self.pk else ""

    @staticmethod
    def pk_from_number(text):
        """ "DEM-000123", "dem-123" or "123" → 123; None when it is no number."""
        text = text.strip().upper()
        if text.startswith(NUMBER_PREFIX):
            text = text[len(NUMBER_PREFIX) :]
        return int(text) if text.isdigit() else None

    @property
    def is_pending(self):
        return self.status == self.Status.EN_ATTENTE
