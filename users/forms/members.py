"""Forms of Organisation › Utilisateurs: attach, detach, the users list's filters.

Every choice is limited to what the requesting user may act on: structures through the
policy, services and users through the chosen structure. A value posted by hand outside
those choices is an invalid choice, never a change."""

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from dsfr.widgets import InlineRadioSelect

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Application, Level, Profile
from core.forms import DsfrForm, ModelMultipleChoiceField
from structures.fields import StructureChoiceField, structures_to_choose
from structures.models import Service, Structure
from users.forms.accounts import normalize_email
from users.models import Membership, User
from users.services import habilitations
from users.services.members import PrincipalManagerError
from users.validators import validate_login_email

LEVEL_STRUCTURE = "structure"
LEVEL_SERVICE = "service"
LEVEL_CHOICES = [(LEVEL_STRUCTURE, _("Maille structure")), (LEVEL_SERVICE, _("Maille service"))]

INACTIVE_STRUCTURE = _(
    "La structure « %(structure)s » est désactivée : réactivez-la d’abord "
    "(Gérer une structure › Activer une structure)."
)


def email_field():
    return forms.EmailField(
        label=_("Adresse électronique de l’utilisateur"),
        max_length=254,
        help_text=_("Saisissez l’adresse complète. Format attendu : nom@domaine.fr"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        validators=[validate_login_email],
    )


class ServicesField(ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Services"))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": _("Le service choisi n’appartient pas à la structure ou n’est pas proposé.")},
        )
        super().__init__(queryset=Service.objects.none(), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class StructureScopedForm(DsfrForm, forms.Form):
    """A form about one structure, chosen in the first step of the page and carried in a
    hidden field: the structure's own choices (services, users) are built from it."""

    application_code = None

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request,
            application_code=self.application_code,
            level=Level.MODIFICATION,
            widget=forms.HiddenInput,
        )
        self.structure = self._chosen_structure()

    def _chosen_structure(self):
        value = self.data.get("structure") if self.is_bound else self.initial.get("structure")
        if isinstance(value, Structure):
            value = value.pk
        try:
            return self.fields["structure"].queryset.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned_data = super().clean()
        if "structure" in self.errors:
            # The structure travels in a hidden field: say it where the user reads.
            self.add_error(None, _("Choisissez une structure parmi les vôtres."))
        return cleaned_data

    def clean_level_and_services(self, cleaned_data):
        """Maille service needs at least one service; maille structure ignores them."""
        if cleaned_data.get("level") == LEVEL_SERVICE:
            if not cleaned_data.get("services") and "services" not in self.errors:
                self.add_error("services", _("Choisissez au moins un service."))
        else:
            cleaned_data["services"] = []
        return cleaned_data


# One field per application offered on the structure, named after its code.
PROFILE_FIELD_PREFIX = "profil_"
PROFILE_LEVEL_LABELS = {Level.CONSULTATION: _("Consultation"), Level.MODIFICATION: _("Modification")}


def profile_level_field(application, levels):
    """Aucun / Consultation / Modification for one application, consultation chosen
    unless the manager says otherwise: a new member should not find it closed."""
    label = application.label
    help_text = ""
    if application.code == ApplicationCode.ORGANISATION:
        help_text = _(
            "Consultation : voir la structure et ses utilisateurs. Modification : administrer la "
            "structure, comme un gestionnaire délégué."
        )
    return forms.TypedChoiceField(
        label=label,
        choices=[("", _("Aucun")), *((level, PROFILE_LEVEL_LABELS[level]) for level in sorted(levels))],
        coerce=int,
        empty_value=None,
        required=False,
        initial=Level.CONSULTATION if Level.CONSULTATION in levels else "",
        widget=InlineRadioSelect,
        help_text=help_text,
        error_messages={
            # Formatted now: Django formats this message again with the refused value.
            "invalid_choice": _("Choisissez Aucun, Consultation ou Modification pour « %(application)s ».")
            % {"application": str(label).replace("%", "%%")}
        },
    )


class ProfileChoicesMixin:
    """The applications offered on one structure, each at Aucun, Consultation or
    Modification, for whoever may grant profiles there (Gérer les habilitations des
    utilisateurs). A profile posted for an application not offered is refused."""

    not_offered_message = _("L’application « %(application)s » n’est pas proposée pour cette structure.")

    def add_profile_fields(self, structure, request):
        self.offered = {}
        self._catalogue = access.get_access(request).catalogue
        if structure is None or not access.can(
            request, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, structure
        ):
            return
        for application, levels in habilitations.offered_profiles(structure):
            name = PROFILE_FIELD_PREFIX + application.code
            self.offered[name] = levels
            self.fields[name] = profile_level_field(application, levels)

    def add_profile_fields_for_any(self, structures, request):
        """The applications offered to at least one of the structures (where the user
        may grant profiles). Each field tells its publics, for the page's script that
        shows only those of the structures ticked."""
        self.offered = {}
        self._catalogue = access.get_access(request).catalogue
        structures = [
            structure
            for structure in structures
            if access.can(request, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, structure)
        ]
        for application, levels in habilitations.offered_profiles_to_any(structures):
            name = PROFILE_FIELD_PREFIX + application.code
            self.offered[name] = levels
            self.fields[name] = profile_level_field(application, levels)
            self.fields[name].widget.attrs["data-publics"] = ",".join(application.audience_list())

    @property
    def profile_fields(self):
        return [self[name] for name in self.offered]

    def refuse_applications_not_offered(self):
        """A profile posted for an application the page did not offer (meant for other
        publics, or no application at all) is refused, never silently dropped."""
        for key in self.data:
            if not key.startswith(PROFILE_FIELD_PREFIX) or key in self.offered:
                continue
            if not self.data.get(key):
                continue  # "Aucun": nothing asked
            application = self._catalogue.get(key.removeprefix(PROFILE_FIELD_PREFIX))
            if application is None:
                self.add_error(None, _("Une des applications choisies n’existe pas."))
            else:
                self.add_error(None, self.not_offered_message % {"application": application.label})

    def chosen_profiles(self) -> list:
        """The profiles chosen, once the form is valid."""
        profiles = []
        for name, levels in self.offered.items():
            level = self.cleaned_data.get(name)
            if level:
                profiles.append(levels[level])
        return profiles


class AttachForm(ProfileChoicesMixin, StructureScopedForm):
    """Rattacher un utilisateur: the email, the attachment's level and services, and the
    profiles the new member receives on accepting (the applications offered to the
    structure, each at Aucun, Consultation or Modification)."""

    application_code = ApplicationCode.RATTACHER_UTILISATEUR

    email = email_field()
    level = forms.ChoiceField(
        label=_("Maille du rattachement"),
        choices=LEVEL_CHOICES,
        initial=LEVEL_STRUCTURE,
        widget=forms.RadioSelect,
        help_text=_("Toute la structure, ou seulement certains de ses services."),
    )
    services = ServicesField(help_text=_("Pour la maille service : les services actifs de la structure."))

    field_order = ["structure", "email", "level", "services"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.structure is not None:
            services = self.structure.services.filter(is_active=True).order_by("code")
            self.fields["services"].queryset = services
            if not services.exists():
                self.fields["services"].help_text = _("Cette structure n’a aucun service actif.")
        self.add_profile_fields(self.structure, self.request)

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.offered and name != "structure"]

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned_data = super().clean()
        structure = cleaned_data.get("structure")
        # A deactivated structure keeps its history, but takes no new member.
        if structure is not None and structure.status == Structure.Status.INACTIVE:
            raise forms.ValidationError(INACTIVE_STRUCTURE % {"structure": structure.display_name})
        self.refuse_applications_not_offered()
        return self.clean_level_and_services(cleaned_data)


class ApprovalProfilesForm(ProfileChoicesMixin, DsfrForm, forms.Form):
    """Approving a request to be attached: the profiles the new member receives."""

    def __init__(self, *args, structure, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_profile_fields(structure, request)

    def clean(self):
        cleaned_data = super().clean()
        self.refuse_applications_not_offered()
        return cleaned_data


class StructureCheckboxes(forms.CheckboxSelectMultiple):
    """Each structure tells its public (habilitations.structure_audience): the page's
    script shows the applications offered to the structures ticked."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-public"] = habilitations.structure_audience(instance)
        return option


class AttachManyForm(ProfileChoicesMixin, DsfrForm, forms.Form):
    """Rattacher à plusieurs structures: the email, the structures, and the profiles the
    new member receives on accepting, chosen once for the applications offered to any
    of the structures; each structure receives only those offered to it."""

    not_offered_message = _("L’application « %(application)s » n’est proposée à aucune de vos structures.")

    email = email_field()
    structures = ModelMultipleChoiceField(
        label=_("Structures"),
        queryset=Structure.objects.none(),
        widget=StructureCheckboxes,
        help_text=_("L’utilisateur est invité à rejoindre chacune, en maille structure."),
        error_messages={
            "required": _("Choisissez au moins une structure."),
            "invalid_choice": _("La structure choisie ne fait pas partie de vos structures."),
        },
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["structures"]
        field.queryset = structures_to_choose(
            request, ApplicationCode.RATTACHER_UTILISATEUR, Level.MODIFICATION
        )
        # Without the page's script, the applications of all the structures are shown.
        self.add_profile_fields_for_any(list(field.queryset), request)

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.offered]

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_structures(self):
        structures = list(self.cleaned_data["structures"])
        for structure in structures:
            if structure.status == Structure.Status.INACTIVE:
                raise forms.ValidationError(INACTIVE_STRUCTURE % {"structure": structure.display_name})
        return structures

    def clean(self):
        cleaned_data = super().clean()
        self.refuse_applications_not_offered()
        return cleaned_data

    def chosen_profiles_by_structure(self) -> dict:
        """{structure id: the profiles chosen whose application it offers}."""
        chosen = self.chosen_profiles()
        return {
            structure.pk: [profile for profile in chosen if habilitations.is_offered(profile, structure)]
            for structure in self.cleaned_data["structures"]
        }


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name_and_email


class DetachForm(StructureScopedForm):
    application_code = ApplicationCode.DETACHER_UTILISATEUR

    user = MemberChoiceField(
        label=_("Utilisateur"),
        queryset=User.objects.none(),
        empty_label=_("Choisir un utilisateur"),
        help_text=_("Les utilisateurs rattachés à la structure choisie."),
        error_messages={
            "required": _("Choisissez l’utilisateur à détacher."),
            "invalid_choice": _("L’utilisateur choisi n’est pas rattaché à cette structure."),
        },
    )
    level = forms.ChoiceField(
        label=_("Maille du détachement"),
        choices=LEVEL_CHOICES,
        initial=LEVEL_STRUCTURE,
        widget=forms.RadioSelect,
        help_text=_(
            "Maille structure : l’utilisateur quitte la structure et perd ses habilitations sur "
            "celle-ci. Maille service : il quitte seulement les services choisis."
        ),
    )
    services = ServicesField(help_text=_("Pour la maille service : les services à quitter."))
    comment = forms.CharField(
        label=_("Commentaire"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Obligatoire : il est conservé dans l’historique et envoyé à l’utilisateur."),
        error_messages={"required": _("Le commentaire est obligatoire.")},
    )

    field_order = ["structure", "user", "level", "services", "comment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.principal_manager_refused = False
        if self.structure is not None:
            live = Membership.objects.filter(structure=self.structure, status=Membership.Status.VALIDEE)
            self.fields["user"].queryset = User.objects.filter(
                Exists(live.filter(user=OuterRef("pk")))
            ).order_by("last_name", "first_name", "email")
            self.fields["services"].queryset = self.structure.services.filter(
                Exists(live.filter(service=OuterRef("pk")))
            ).order_by("code")

    def clean(self):
        cleaned_data = self.clean_level_and_services(super().clean())
        user, structure = cleaned_data.get("user"), cleaned_data.get("structure")
        if user is not None and structure is not None and structure.principal_manager_id == user.pk:
            self.principal_manager_refused = True
            self.add_error("user", PrincipalManagerError().message)
        return cleaned_data


class StructureStepForm(DsfrForm, forms.Form):
    """First step of attach / detach: which structure (GET)."""

    def __init__(self, *args, request, application_code, level=Level.MODIFICATION, **kwargs):
        # Its own ids: the page's main form carries a structure field too.
        kwargs.setdefault("auto_id", "etape_%s")
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request, application_code=application_code, level=level
        )


class DirectoryFilterForm(DsfrForm, forms.Form):
    """The users list's search and filters (GET). An invalid value is ignored, with its
    error shown: the list and its export apply the same valid filters."""

    q = forms.CharField(label=_("Nom, prénom ou adresse électronique"), required=False, max_length=200)
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("Tous les services"),
    )
    profile = forms.ModelChoiceField(
        label=_("Profil"),
        queryset=Profile.objects.none(),
        required=False,
        empty_label=_("Tous les profils"),
    )
    status = forms.ChoiceField(
        label=_("Statut du rattachement"),
        choices=[("", _("Tous les statuts")), *Membership.Status.choices],
        required=False,
    )

    field_order = ["q", "structure", "service", "profile", "status"]

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.CONSULTER_UTILISATEURS,
            level=Level.CONSULTATION,
            required=False,
            empty_label=_("Toutes les structures"),
        )
        self.order_fields(self.field_order)
        structures = self.fields["structure"].queryset
        service = self.fields["service"]
        service.queryset = (
            Service.objects.filter(structure__in=structures)
            .select_related("structure")
            .order_by("structure__company_name", "code", "pk")
        )
        service.label_from_instance = lambda obj: f"{obj.code} — {obj.name} ({obj.structure.display_name})"
        profile = self.fields["profile"]
        # Profiles of the catalogue's own applications (a governed tool has no profile of its own).
        profile.queryset = (
            Profile.objects.filter(
                application__access=Application.Access.PROFILE, application__governed_by__isnull=True
            )
            .select_related("application__domain")
            .order_by("application__domain__order", "application__order", "application__name", "level")
        )
        profile.label_from_instance = habilitations.profile_label

    def filters(self) -> dict:
        """The valid filters only."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
