from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Logins are case-insensitive: "Jean@Exemple.fr" is the same account.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A physical person. The login email identifies them; notifications go to the
    contact email when they gave one."""

    email = models.EmailField(_("adresse de connexion"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("adresse de contact"), blank=True)
    is_active = models.BooleanField(
        _("actif"),
        default=True,
        help_text=_("Un compte inactif ne peut pas se connecter (compte non activé ou désactivé)."),
    )
    is_staff = models.BooleanField(
        _("équipe"),
        default=False,
        help_text=_("Agents du support et opérateurs : accès au back-office."),
    )
    date_joined = models.DateTimeField(_("date d’inscription"), default=timezone.now)
    activated_at = models.DateTimeField(_("date d’activation"), null=True, blank=True)
    # Kept in step with the user's confirmed authenticator (users.services.two_factor): read on
    # every request without a query to the devices.
    two_factor_enabled = models.BooleanField(_("double authentification activée"), default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name", "email"]
        indexes = [
            # Logins look the email up case-insensitively (UserManager.get_by_natural_key).
            models.Index(Upper("email"), name="user_email_upper"),
            models.Index(fields=["last_name", "first_name", "email"], name="user_default_order"),
        ]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret=None):
        # Django binds a session to the password hash, so a password change ends the
        # account's other sessions. Binding it to the login address too makes a change
        # of address end them as well: on any session engine, without looking sessions
        # up (the view that makes the change keeps its own, update_session_auth_hash).
        return salted_hmac(
            "users.User.session_auth_hash",
            f"{self.password}\x1f{self.email.lower()}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    @property
    def name_and_email(self):
        """"Jean Dupont (jean.dupont@exemple.fr)", or the address alone for a user who gave
        no name: never the address twice."""
        name = self.get_full_name()
        return f"{name} ({self.email})" if name else self.email

    @property
    def notification_email(self):
        return self.contact_email or self.email


class Membership(models.Model):
    """A user's attachment (rattachement) to a whole structure, or to one of its
    services. Ended attachments are kept, with their status, as history."""

    class Status(models.TextChoices):
        # Names from the Chorus Pro API (statutRattachement).
        EN_COURS_DE_VALIDATION = "EN_COURS_DE_VALIDATION", _("En cours de validation")
        VALIDEE = "VALIDEE", _("Validé")
        REFUSEE = "REFUSEE", _("Refusé")
        DESACTIVEE = "DESACTIVEE", _("Désactivé")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("utilisateur"),
    )
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("structure"),
    )
    service = models.ForeignKey(
        "structures.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("service"),
        help_text=_("Vide : maille structure (toute la structure)."),
    )
    status = models.CharField(_("statut"), max_length=32, choices=Status.choices, default=Status.VALIDEE)
    comment = models.TextField(_("commentaire"), blank=True)
    started_at = models.DateTimeField(_("date de début"), default=timezone.now)
    ended_at = models.DateTimeField(_("date de fin"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    LIVE_STATUSES = (Status.EN_COURS_DE_VALIDATION, Status.VALIDEE)

    class Meta:
        verbose_name = _("rattachement")
        verbose_name_plural = _("rattachements")
        ordering = ["structure", "service", "user"]
        constraints = [
            # One live attachment per user and structure (or service); ended ones are history.
            models.UniqueConstraint(
                fields=["user", "structure"],
                condition=Q(service__isnull=True, status__in=["EN_COURS_DE_VALIDATION", "VALIDEE"]),
                name="membership_one_live_per_structure",
            ),
            models.UniqueConstraint(
                fields=["user", "service"],
                condition=Q(service__isnull=False, status__in=["EN_COURS_DE_VALIDATION", "VALIDEE"]),
                name="membership_one_live_per_service",
            ),
        ]

    def __str__(self):
        target = self.service or self.structure
        return f"{self.user} → {target} ({self.get_status_display()})"

    @property
    def is_structure_level(self):
        return self.service_id is None


class Invitation(models.Model):
    """An invitation to join a structure, sent when a manager attaches an email.

    To an email without account (`user` empty), it invites to create one: once that
    address's account is activated, the invitation is accepted. To an existing account
    (`user`), its owner accepts or declines it from their home page: until they accept,
    they are no member of the structure. Either way it lapses after VALIDITY."""

    VALIDITY = timedelta(days=7)

    email = models.EmailField(_("adresse électronique"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations_received",
        verbose_name=_("compte invité"),
        help_text=_("Vide : invitation à créer un compte."),
    )
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("structure"),
    )
    services = models.ManyToManyField(
        "structures.Service",
        blank=True,
        related_name="invitations",
        verbose_name=_("services"),
        help_text=_("Vide : maille structure (toute la structure)."),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invité par"),
    )
    # Granted with the attachment, so that the new member does not find every
    # application closed (users.services.members.invitation_accept).
    profiles = models.ManyToManyField(
        "chorus.Profile",
        blank=True,
        related_name="+",
        verbose_name=_("profils accordés"),
        help_text=_("Accordés par l’invitant quand l’invitation est acceptée."),
    )
    created_at = models.DateTimeField(_("envoyée le"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    declined_at = models.DateTimeField(_("refusée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # An answer is given once: accepted or declined, never both.
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(declined_at__isnull=True),
                name="invitation_accepted_or_declined",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.structure}"

    @property
    def expires_at(self):
        return self.created_at + self.VALIDITY

    @property
    def is_pending(self):
        return self.accepted_at is None and self.declined_at is None and timezone.now() < self.expires_at
