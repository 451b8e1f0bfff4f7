"""The shared access model: domains, applications, profiles and habilitations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chorus.actions import action_label


class Level(models.IntegerChoices):
    """Access level of a profile. Modification implies consultation."""

    CONSULTATION = 1, _("consultation")
    MODIFICATION = 2, _("modification")


class Audience(models.TextChoices):
    """The header tabs: who the home page speaks to."""

    ENTREPRISE = "entreprise", _("Entreprise")
    ENTITE_PUBLIQUE = "entite-publique", _("Entité publique")
    PARTICULIER = "particulier", _("Particulier")
    ASSOCIATION = "association", _("Association")


class Domain(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    icon = models.CharField(_("icône DSFR"), max_length=60, blank=True, help_text="ex. fr-icon-building-line")
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    @property
    def label(self):
        """The name in the user's language (catalogue names are translated like the
        interface; a name an operator adds stays as typed)."""
        return gettext(self.name)

    @property
    def summary(self):
        return gettext(self.description) if self.description else ""


class Application(models.Model):
    """A tool of the portal. Who may open it depends on its kind of access; a tool
    opened through a profile may share the profile of another application (every
    Organisation tool is governed by the Organisation profile)."""

    class Access(models.TextChoices):
        PROFILE = "profile", _("sur profil (consultation ou modification)")
        PERSONAL = "personal", _("tout utilisateur connecté")
        STAFF = "staff", _("agents du support")
        PUBLIC = "public", _("public")

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    domain = models.ForeignKey(
        Domain, on_delete=models.PROTECT, related_name="applications", verbose_name=_("domaine")
    )
    section = models.CharField(
        _("rubrique"), max_length=60, blank=True, help_text=_("Sous-partie du domaine, ex. « Structure ».")
    )
    description = models.TextField(_("description"), blank=True)
    access = models.CharField(_("accès"), max_length=10, choices=Access.choices, default=Access.PROFILE)
    governed_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="governed_applications",
        verbose_name=_("profil porté par"),
        help_text=_("Application dont le profil donne accès à celle-ci."),
    )
    url_name = models.CharField(
        _("nom d’URL"), max_length=100, blank=True, help_text=_("Vue Django de la page de l’application.")
    )
    audiences = models.CharField(
        _("publics"),
        max_length=100,
        blank=True,
        help_text=_("Publics concernés, séparés par des virgules ; vide : tous."),
    )
    is_listed = models.BooleanField(_("affichée dans les menus"), default=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["domain__order", "order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(governed_by__isnull=True) | Q(access="profile"),
                name="application_governed_only_when_profiled",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def label(self):
        return gettext(self.name)

    @property
    def summary(self):
        return gettext(self.description) if self.description else ""

    @property
    def section_label(self):
        return gettext(self.section) if self.section else ""

    @property
    def profile_code(self):
        """Code of the application whose profile opens this one."""
        return self.governed_by.code if self.governed_by_id else self.code

    def audience_list(self):
        return [a.strip() for a in self.audiences.split(",") if a.strip()]


class Profile(models.Model):
    """One application at one level: what a habilitation grants."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="profiles", verbose_name=_("application")
    )
    level = models.PositiveSmallIntegerField(_("niveau d’accès"), choices=Level.choices)

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profils")
        ordering = ["application__name", "level"]
        constraints = [
            models.UniqueConstraint(fields=["application", "level"], name="profile_unique_application_level"),
        ]

    def __str__(self):
        return f"{self.application.name} – {self.get_level_display()}"


class Habilitation(models.Model):
    """A profile held by a user on a structure, or on one of its services."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="habilitations",
        verbose_name=_("utilisateur"),
    )
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.CASCADE,
        related_name="habilitations",
        verbose_name=_("structure"),
    )
    service = models.ForeignKey(
        "structures.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="habilitations",
        verbose_name=_("service"),
    )
    profile = models.ForeignKey(
        Profile, on_delete=models.PROTECT, related_name="habilitations", verbose_name=_("profil")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accordée par"),
    )
    created_at = models.DateTimeField(_("accordée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("habilitation")
        verbose_name_plural = _("habilitations")
        ordering = ["structure", "user", "profile"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure", "profile"],
                condition=Q(service__isnull=True),
                name="habilitation_unique_on_structure",
            ),
            models.UniqueConstraint(
                fields=["user", "service", "profile"],
                condition=Q(service__isnull=False),
                name="habilitation_unique_on_service",
            ),
        ]

    def __str__(self):
        return f"{self.user} : {self.profile} ({self.service or self.structure})"


class AuditEvent(models.Model):
    """One recorded change: who, when, what, before and after. Never edited.

    The records form a chain in id order: each carries the hash of the previous one and
    its own hash over its fields (chorus.audit.chain_hash), so that an edited, deleted,
    inserted or reordered record is found by `manage.py audit_verify`.

    Who acted and in which structure are kept twice: as foreign keys, for the history
    pages, which a deletion empties; and as plain values, which the hash covers and no
    deletion touches."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    actor_id_value = models.BigIntegerField(
        _("identifiant de l’auteur"), null=True, blank=True, editable=False
    )
    # Empty on the records written before this column: their hash does not cover it.
    actor_email = models.EmailField(_("adresse de l’auteur"), blank=True, editable=False)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("type d’objet"), max_length=60)
    object_id = models.CharField(_("identifiant de l’objet"), max_length=40)
    object_repr = models.CharField(_("objet"), max_length=255)
    # The structure the change belongs to, so that its managers can read its history.
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("structure"),
    )
    structure_id_value = models.BigIntegerField(
        _("identifiant de la structure"), null=True, blank=True, editable=False
    )
    changes = models.JSONField(_("avant / après"), default=dict, blank=True)
    # Set when the object is built, not when saved: the hash covers it (chorus.audit.record).
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False, db_index=True)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("empreinte"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("événement d’audit")
        verbose_name_plural = _("journal d’audit")
        ordering = ["-created_at", "-id"]
        # A structure's history page, newest first.
        indexes = [models.Index(fields=["structure", "-created_at", "-id"], name="audit_structure_recent")]

    def __str__(self):
        action = action_label(self.action)
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {action} {self.object_repr}"

    @property
    def actor_label(self) -> str:
        """Who acted, also once their account is deleted."""
        if self.actor_id is not None:
            return str(self.actor)
        if self.actor_email:
            return self.actor_email
        if self.actor_id_value is not None:
            return gettext("compte n° %(id)s (supprimé)") % {"id": self.actor_id_value}
        return ""


class SecurityPolicy(models.Model):
    """The operators' security settings, one row (pk 1), edited in the admin."""

    SINGLETON_PK = 1

    two_factor_required = models.BooleanField(
        _("double authentification obligatoire pour tous"),
        default=False,
        help_text=_(
            "Chaque utilisateur sans double authentification devra l’activer à sa prochaine connexion, "
            "et aucun ne pourra la désactiver."
        ),
    )
    updated_at = models.DateTimeField(_("dernière modification"), auto_now=True)

    class Meta:
        verbose_name = _("politique de sécurité")
        verbose_name_plural = _("politique de sécurité")

    def __str__(self):
        return gettext("Politique de sécurité")

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The policy in force; the defaults while operators never saved one (read
        without writing, so that a GET never creates the row)."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls(pk=cls.SINGLETON_PK)
