from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from structures.storage import attachment_path, bank_proof_path, claim_proof_path

RESERVED_SERVICE_CODE = "FACTURES_PUBLIQUES"


def country_display(country: str, country_label: str = "") -> str:
    """A country as pages show it: INSEE's name and the ISO code abroad
    ("Allemagne (DE)"), INSEE's name alone when no single country is known."""
    if not country_label:
        return country
    return f"{country_label} ({country})" if country else country_label


class PostalAddress(models.Model):
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    address_complement_1 = models.CharField(_("complément d’adresse 1"), max_length=255, blank=True)
    address_complement_2 = models.CharField(_("complément d’adresse 2"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")

    class Meta:
        abstract = True


class Structure(PostalAddress):
    """A legal entity: company, public body, association or person."""

    class IdentifierType(models.TextChoices):
        # Values of typeIdentifiantStructure in the Chorus Pro API.
        SIRET = "SIRET", _("SIRET")
        UE_HORS_FRANCE = "UE_HORS_FRANCE", _("Structure européenne hors France")
        HORS_UE = "HORS_UE", _("Structure hors UE")
        RIDET = "RIDET", _("RIDET")
        TAHITI = "TAHITI", _("Numéro Tahiti")
        PARTICULIER = "PARTICULIER", _("Particulier")
        AUTRE = "AUTRE", _("Autre")
        EN_COURS_IMMATRICULATION = "EN_COURS_IMMATRICULATION", _("En cours d’immatriculation")

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("Active")
        INACTIVE = "INACTIVE", _("Inactive")
        EN_COURS_ACTIVATION = "EN_COURS_ACTIVATION", _("Activation en cours")

    class Kind(models.TextChoices):
        # structurePriveePublique in the Chorus Pro API.
        PRIVEE = "PRIVEE", _("Privée")
        PUBLIQUE = "PUBLIQUE", _("Publique")

    identifier_type = models.CharField(
        _("type d’identifiant"), max_length=32, choices=IdentifierType.choices, default=IdentifierType.SIRET
    )
    identifier = models.CharField(_("identifiant"), max_length=80)
    company_name = models.CharField(_("raison sociale"), max_length=255)
    label = models.CharField(_("libellé"), max_length=255, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    rcs_number = models.CharField(_("numéro RCS"), max_length=40, blank=True)
    vat_number = models.CharField(_("numéro de TVA intracommunautaire"), max_length=20, blank=True)
    email = models.EmailField(_("adresse électronique de la structure"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    kind = models.CharField(
        _("structure privée ou publique"), max_length=8, choices=Kind.choices, default=Kind.PRIVEE
    )
    status = models.CharField(_("statut"), max_length=24, choices=Status.choices, default=Status.ACTIVE)
    origin = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("structure d’origine"),
    )
    # A single column: the database itself cannot hold two principal managers for one
    # structure. Who may take the role is decided under a row lock (see services).
    principal_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_structures",
        verbose_name=_("gestionnaire principal"),
    )

    # Parameters of public bodies (names of the Chorus Pro API in comments).
    service_code_required = models.BooleanField(
        _("service obligatoire"), default=False
    )  # codeServiceDoitEtreRenseigne
    commitment_required = models.BooleanField(
        _("engagement juridique obligatoire"), default=False
    )  # numeroEJDoitEtreRenseigne
    commitment_or_service = models.BooleanField(
        _("EJ ou service"), default=False
    )  # gestionNumeroEJOuCodeService
    payment_status_managed = models.BooleanField(_("gestion du statut mise en paiement"), default=False)
    is_moa = models.BooleanField(_("MOA"), default=False)  # getaMoa
    is_moa_only = models.BooleanField(_("MOA uniquement"), default=False)  # estMoaUniquement
    court_fee_provider_category = models.CharField(
        _("catégorie de prestataire (mémoires de frais de justice)"), max_length=100, blank=True
    )
    # Set by the principal manager: every user attached must log in with a second factor.
    two_factor_required = models.BooleanField(_("double authentification obligatoire"), default=False)

    # Data from the INSEE Sirene register.
    # INSEE's name of the country of an establishment abroad: the only country there is
    # when INSEE's code names no single one (country is then ""). A database default, so
    # that the release before it can still insert structures (docs/deployment.md).
    country_label = models.CharField(
        _("pays (libellé INSEE)"), max_length=100, blank=True, default="", db_default=""
    )
    legal_category = models.CharField(_("catégorie juridique"), max_length=4, blank=True)
    company_category = models.CharField(_("catégorie d’entreprise"), max_length=10, blank=True)
    non_diffusible = models.BooleanField(_("non diffusible (INSEE)"), default=False)
    insee_updated_at = models.DateTimeField(_("dernière mise à jour INSEE"), null=True, blank=True)

    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("dernière mise à jour"), auto_now=True)

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")
        ordering = ["company_name", "identifier"]
        indexes = [
            # "Demander un rattachement" looks a SIRET up case-insensitively (iexact).
            models.Index(Upper("identifier"), name="structure_identifier_upper"),
            models.Index(fields=["company_name", "identifier"], name="structure_default_order"),
            # Trigram indexes for substring search live in migration 0006 (PostgreSQL only).
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["identifier_type", "identifier"], name="structure_unique_identifier"
            ),
            # At most one principal manager is the single column; at least one for an
            # active structure is this check. A structure nobody is attached to waits in
            # "activation en cours" until its first user takes the role (users.services.members).
            models.CheckConstraint(
                condition=~Q(status="ACTIVE") | Q(principal_manager__isnull=False),
                name="structure_active_has_principal_manager",
                violation_error_message=_("Une structure active a toujours un gestionnaire principal."),
            ),
        ]

    def __str__(self):
        return f"{self.identifier} — {self.display_name}"

    @property
    def display_name(self):
        return self.company_name or f"{self.first_name} {self.last_name}".strip()

    @property
    def country_display(self):
        return country_display(self.country, self.country_label)

    @property
    def is_public(self):
        return self.kind == self.Kind.PUBLIQUE

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    @property
    def awaits_principal_manager(self):
        """Nobody is attached yet: the first user attached becomes its principal manager
        and activates it (an active structure always has one, see Meta.constraints)."""
        return self.status == self.Status.EN_COURS_ACTIVATION and self.principal_manager_id is None

    @property
    def accepts_attachment_requests(self):
        return self.is_active or self.awaits_principal_manager


class Service(PostalAddress):
    """A sub-unit of a structure that invoices can be routed to."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="services", verbose_name=_("structure")
    )
    code = models.CharField(_("code"), max_length=100)
    name = models.CharField(_("libellé"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    commitment_required = models.BooleanField(_("numéro d’engagement obligatoire"), default=False)
    valid_from = models.DateField(_("début de validité"), null=True, blank=True)
    valid_until = models.DateField(_("fin de validité"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["structure", "code"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "code"], name="service_unique_code_in_structure"),
            models.CheckConstraint(
                condition=~Q(code=RESERVED_SERVICE_CODE), name="service_code_not_reserved"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="service_validity_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"


class BankAccount(models.Model):
    """A structure's bank details (coordonnée bancaire), with its PDF proof. Informative:
    never deleted, deactivated instead, so that past uses stay explained."""

    class Kind(models.TextChoices):
        IBAN = "IBAN", _("IBAN")
        RIB = "RIB", _("RIB")

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="bank_accounts", verbose_name=_("structure")
    )
    name = models.CharField(_("nom de la coordonnée bancaire"), max_length=100)  # nomCoordonneeBancaire
    kind = models.CharField(_("type"), max_length=4, choices=Kind.choices, default=Kind.IBAN)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    # Always filled, from the RIB when the user typed one: lists and uses read one field.
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC / SWIFT"), max_length=11, blank=True)
    bank_code = models.CharField(_("code banque"), max_length=5, blank=True)
    branch_code = models.CharField(_("code guichet"), max_length=5, blank=True)
    account_number = models.CharField(_("numéro de compte"), max_length=11, blank=True)
    rib_key = models.CharField(_("clé RIB"), max_length=2, blank=True)
    is_factor = models.BooleanField(_("affactureur"), default=False)
    factor_name = models.CharField(_("nom de l’affactureur"), max_length=255, blank=True)
    factor_identifier = models.CharField(_("identifiant de l’affactureur"), max_length=80, blank=True)
    proof = models.FileField(_("justificatif"), upload_to=bank_proof_path, max_length=255)
    proof_name = models.CharField(_("nom du justificatif"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créée par"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    deactivated_at = models.DateTimeField(_("désactivée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("coordonnée bancaire")
        verbose_name_plural = _("coordonnées bancaires")
        ordering = ["structure", "-is_active", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_factor=False) | (~Q(factor_name="") & ~Q(factor_identifier="")),
                name="bank_account_factor_identified",
                violation_error_message=_("Indiquez le nom et l’identifiant de l’affactureur."),
            ),
            models.CheckConstraint(
                condition=Q(kind="IBAN")
                | (~Q(bank_code="") & ~Q(branch_code="") & ~Q(account_number="") & ~Q(rib_key="")),
                name="bank_account_rib_complete",
                violation_error_message=_(
                    "Un RIB comporte un code banque, un code guichet, un numéro et une clé."
                ),
            ),
            models.CheckConstraint(
                condition=Q(is_active=True, deactivated_at__isnull=True)
                | Q(is_active=False, deactivated_at__isnull=False),
                name="bank_account_deactivation_dated",
                violation_error_message=_(
                    "Une coordonnée bancaire désactivée porte sa date de désactivation."
                ),
            ),
            # The same account declared twice for one structure would be ambiguous.
            models.UniqueConstraint(
                fields=["structure", "iban"],
                condition=Q(is_active=True),
                name="bank_account_unique_active_iban",
                violation_error_message=_("Ce compte est déjà déclaré et actif pour cette structure."),
            ),
        ]

    def __str__(self):
        return f"{self.name} — {self.masked_iban}"

    @property
    def masked_iban(self):
        """The IBAN as lists show it, e.g. FR76 **** **** **** **** ***0 189: country and
        check digits, and the last four characters, in groups of four."""
        iban = self.iban or ""
        if len(iban) <= 8:
            masked = iban
        else:
            masked = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
        return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


class Attachment(models.Model):
    """A document stored for a structure (pièce jointe), visible to all its users."""

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("structure")
    )
    file = models.FileField(_("fichier"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("nom"), max_length=50)
    content_type = models.CharField(_("type de contenu"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("déposée par"),
    )
    created_at = models.DateTimeField(_("déposée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def extension_label(self):
        _stem, dot, extension = self.original_name.rpartition(".")
        return extension.upper() if dot else ""

    @property
    def size_label(self):
        """The size as French users write it: "850 octets", "1,5 Ko", "2,3 Mo"."""
        if self.size < 1024:
            return ngettext("%(size)d octet", "%(size)d octets", self.size) % {"size": self.size}
        if self.size < 1024 * 1024:
            return _("%(size)s Ko") % {"size": number_format(self.size / 1024, 1)}
        return _("%(size)s Mo") % {"size": number_format(self.size / (1024 * 1024), 1)}


class StructureClaim(models.Model):
    """Someone says a structure was created or taken by a person who does not belong to
    it, and asks to become its principal manager. Operators decide, once, from the admin."""

    class Status(models.TextChoices):
        EN_ATTENTE = "EN_ATTENTE", _("En attente")
        ACCEPTEE = "ACCEPTEE", _("Acceptée")
        REJETEE = "REJETEE", _("Rejetée")

    MAX_EXPLANATION_LENGTH = 5000

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="claims", verbose_name=_("structure")
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="structure_claims",
        verbose_name=_("demandeur"),
    )
    explanation = models.TextField(_("explication"), max_length=MAX_EXPLANATION_LENGTH)
    proof = models.FileField(_("justificatif"), upload_to=claim_proof_path, max_length=255, blank=True)
    proof_name = models.CharField(_("nom du justificatif"), max_length=50, blank=True)
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.EN_ATTENTE)
    created_at = models.DateTimeField(_("déposée le"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décidée par"),
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decision_comment = models.TextField(_("commentaire de la décision"), blank=True)
    # The principal manager the decision replaced (acceptance) or kept (rejection).
    manager_at_decision = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gestionnaire principal lors de la décision"),
    )

    # Kept out of the structure's history, which its current managers read: the person
    # a claim is about does not learn who filed it before operators decide.
    audit_structure = None

    class Meta:
        verbose_name = _("revendication de structure")
        verbose_name_plural = _("revendications de structures")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "claimant"],
                condition=Q(status="EN_ATTENTE"),
                name="structure_claim_one_pending_per_claimant",
                violation_error_message=_(
                    "Vous avez déjà revendiqué cette structure : la demande est en cours d’examen."
                ),
            ),
            # Decided means dated and signed; pending means neither.
            models.CheckConstraint(
                condition=Q(status="EN_ATTENTE", decided_at__isnull=True, decided_by__isnull=True)
                | (
                    Q(status__in=["ACCEPTEE", "REJETEE"])
                    & Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
                name="structure_claim_decision_dated",
            ),
        ]

    def __str__(self):
        return _("Revendication de %(structure)s") % {"structure": self.structure}
