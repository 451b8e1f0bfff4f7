"""Gérer une structure: the type-de-demande switch, the search, the update form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm
from structures.fields import StructureChoiceField
from structures.models import Structure
from users.forms.accounts import normalize_phone


class RequestType:
    """The values of the *Type de demande* dropdown (in the query string)."""

    CONSULT = "consulter"
    UPDATE = "modifier"
    ACTIVATE = "activer"
    INSEE = "insee"
    DEACTIVATE = "desactiver"

    CHOICES = [
        (CONSULT, _("Consulter / rechercher une structure")),
        (UPDATE, _("Modifier une structure")),
        (ACTIVATE, _("Activer une structure")),
        (INSEE, _("Mettre à jour depuis la base INSEE")),
        (DEACTIVATE, _("Désactiver une structure")),
    ]


class RequestTypeForm(DsfrForm, forms.Form):
    """A GET form: the type of request and, except to consult, the structure. Users
    who may change none of their structures are offered consultation only."""

    type = forms.ChoiceField(
        label=_("Type de demande"),
        choices=RequestType.CHOICES,
        help_text=_("Le choix d’un type de demande met la page à jour."),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        structure_field = StructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.GERER_STRUCTURE,
            level=Level.MODIFICATION,
            required=False,
            help_text=_("À choisir pour modifier, activer, mettre à jour ou désactiver une structure."),
        )
        # From the access context already loaded: no query.
        self.can_change = bool(
            access.structure_ids_for(request, ApplicationCode.GERER_STRUCTURE, Level.MODIFICATION)
        )
        if self.can_change:
            self.fields["structure"] = structure_field
        else:
            self.fields["type"].choices = RequestType.CHOICES[:1]

    def clean(self):
        cleaned_data = super().clean()
        request_type = cleaned_data.get("type")
        if request_type and request_type != RequestType.CONSULT and not cleaned_data.get("structure"):
            if "structure" not in self.errors:
                self.add_error("structure", _("Choisissez la structure concernée par la demande."))
        return cleaned_data


class StructureSearchForm(DsfrForm, forms.Form):
    """Search among the user's structures; every criterion is optional."""

    identifiant = forms.CharField(label=_("Identifiant"), required=False, max_length=80)
    raison_sociale = forms.CharField(label=_("Raison sociale"), required=False, max_length=255)
    statut = forms.ChoiceField(
        label=_("Statut"),
        required=False,
        choices=[("", _("Tous les statuts")), *Structure.Status.choices],
    )

    def filter(self, queryset):
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["identifiant"]:
            queryset = queryset.filter(identifier__icontains=data["identifiant"].strip())
        if data["raison_sociale"]:
            queryset = queryset.filter(company_name__icontains=data["raison_sociale"].strip())
        if data["statut"]:
            queryset = queryset.filter(status=data["statut"])
        return queryset


PUBLIC_PARAMETERS = [
    "service_code_required",
    "commitment_required",
    "commitment_or_service",
    "payment_status_managed",
    "is_moa",
    "is_moa_only",
]


SECURITY_FIELDS = ("two_factor_required",)


class StructureUpdateForm(DsfrForm, forms.ModelForm):
    """What a manager may change. Identity and address come from INSEE: they are not
    fields of this form, so posted values for them are ignored."""

    error_messages = {
        "invalid_phone": _(
            "Saisissez un numéro de téléphone français : 10 chiffres (01 23 45 67 89) "
            "ou +33 suivi de 9 chiffres (+33 1 23 45 67 89)."
        ),
        "moa_only_without_moa": _(
            "« Maître d’ouvrage uniquement » ne peut être coché que si « Maître d’ouvrage (MOA) » "
            "l’est aussi."
        ),
    }

    class Meta:
        model = Structure
        fields = ["email", "phone", "court_fee_provider_category", *PUBLIC_PARAMETERS, "two_factor_required"]
        labels = {
            "email": _("Adresse électronique de la structure"),
            "phone": _("Téléphone"),
            "court_fee_provider_category": _("Catégorie de prestataire (mémoires de frais de justice)"),
            "service_code_required": _("Code service obligatoire"),
            "commitment_required": _("Numéro d’engagement juridique obligatoire"),
            "commitment_or_service": _("Engagement juridique ou code service obligatoire"),
            "payment_status_managed": _("Gestion du statut « mise en paiement »"),
            "is_moa": _("Maître d’ouvrage (MOA)"),
            "is_moa_only": _("Maître d’ouvrage uniquement (MOA uniquement)"),
            "two_factor_required": _("Double authentification obligatoire"),
        }
        help_texts = {
            "email": _("Format attendu : nom@domaine.fr"),
            "phone": _("Format attendu : 01 23 45 67 89 ou +33 1 23 45 67 89"),
            "court_fee_provider_category": _(
                "Pour les prestataires qui déposent des mémoires de frais de justice."
            ),
            "service_code_required": _("Les factures reçues doivent indiquer un code service."),
            "commitment_required": _(
                "Les factures reçues doivent indiquer un numéro d’engagement juridique."
            ),
            "commitment_or_service": _(
                "Les factures reçues doivent indiquer un numéro d’engagement juridique ou un code service."
            ),
            "payment_status_managed": _("La structure indique quand ses factures sont mises en paiement."),
            "is_moa": _("La structure reçoit des factures de travaux en tant que maître d’ouvrage."),
            "is_moa_only": _(
                "La structure ne reçoit que des factures de travaux, en tant que maître d’ouvrage."
            ),
            "two_factor_required": _(
                "Chaque utilisateur rattaché devra saisir, après son mot de passe, un code de son "
                "application d’authentification. Ceux qui ne l’ont pas encore activée le feront à leur "
                "prochaine connexion."
            ),
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }

    def __init__(self, data=None, *, structure, user=None):
        super().__init__(data, instance=structure)
        if user is None or structure.principal_manager_id != user.pk:
            # Requiring two-factor authentication of every user is the principal
            # manager's decision alone: for anyone else a posted value is ignored.
            del self.fields["two_factor_required"]
        if not structure.is_public:
            # The parameters of public bodies mean nothing for a company.
            for name in PUBLIC_PARAMETERS:
                del self.fields[name]

    @property
    def public_parameter_fields(self):
        return [self[name] for name in PUBLIC_PARAMETERS if name in self.fields]

    @property
    def contact_fields(self):
        return [self[name] for name in self.fields if name not in (*PUBLIC_PARAMETERS, *SECURITY_FIELDS)]

    @property
    def security_fields(self):
        return [self[name] for name in SECURITY_FIELDS if name in self.fields]

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        normalized = normalize_phone(phone)
        if normalized is None:
            raise ValidationError(self.error_messages["invalid_phone"], code="invalid_phone")
        return normalized

    def clean_court_fee_provider_category(self):
        return self.cleaned_data["court_fee_provider_category"].strip()

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("is_moa_only") and not cleaned_data.get("is_moa"):
            self.add_error(
                "is_moa_only",
                ValidationError(self.error_messages["moa_only_without_moa"], code="moa_only_without_moa"),
            )
        return cleaned_data
