"""Forms of Créer / gérer un service."""

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from dsfr.utils import dsfr_input_class_attr

from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm
from structures.fields import StructureChoiceField
from structures.models import RESERVED_SERVICE_CODE, Service, Structure
from structures.services.units import INACTIVE_STRUCTURE_MESSAGE

SERVICE_CODE_PATTERN = re.compile(r"^[A-Z0-9_-]+$")


ADDRESS_FIELDS = ["address", "address_complement_1", "address_complement_2", "postcode", "city", "country"]


def structure_refusal(structure) -> str:
    """Why this structure's services cannot be changed now, or an empty string."""
    if structure.status == Structure.Status.INACTIVE:
        return str(INACTIVE_STRUCTURE_MESSAGE)
    return ""


# Set in each form's Meta, not in __init__: the DSFR base form builds the bound fields
# (and their help texts and widget classes) as it initialises.
WIDGETS = {
    "description": forms.Textarea(attrs={"rows": 3}),
    "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
}
HELP_TEXTS = {
    "code": _(
        "Unique dans la structure ; lettres sans accent, chiffres, « _ » et « - ». "
        "Il ne pourra plus être modifié."
    ),
    "country": _("Code ISO à deux lettres, par exemple FR."),
    "is_active": _("Un service inactif ne peut plus recevoir de factures."),
    "commitment_required": _("Les factures adressées à ce service devront porter un numéro d’engagement."),
}


class _ServiceFieldsMixin:
    """What the creation and the modification forms share: address, dates, flags."""

    error_messages = {
        "dates_reversed": _("La date de fin de validité doit être postérieure ou égale à la date de début."),
        "country": _("Indiquez le pays par son code ISO à deux lettres, par exemple FR."),
    }

    def clean_country(self):
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise forms.ValidationError(self.error_messages["country"], code="country")
        return country

    def clean(self):
        cleaned_data = super().clean()
        valid_from, valid_until = cleaned_data.get("valid_from"), cleaned_data.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", forms.ValidationError(self.error_messages["dates_reversed"]))
        return cleaned_data


class ServiceCreateForm(_ServiceFieldsMixin, DsfrForm, forms.ModelForm):
    """Créer un service: in one of the structures the user may create services for."""

    error_messages = {
        **_ServiceFieldsMixin.error_messages,
        "duplicate_code": _("Ce code de service existe déjà dans cette structure."),
        "reserved_code": _("Le code FACTURES_PUBLIQUES est réservé : choisissez un autre code."),
        "code_characters": _(
            "Le code ne peut contenir que des lettres sans accent, des chiffres, « _ » et « - »."
        ),
        "inactive_structure": INACTIVE_STRUCTURE_MESSAGE,
    }

    class Meta:
        model = Service
        # The structure is not a model field of the form: it is added in __init__,
        # limited to the user's structures (a field that exists when the DSFR base form
        # initialises keeps its first, unlimited, bound field).
        fields = [
            "code",
            "name",
            "description",
            *ADDRESS_FIELDS,
            "valid_from",
            "valid_until",
            "commitment_required",
            "is_active",
        ]
        widgets = WIDGETS
        help_texts = HELP_TEXTS

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request, application_code=ApplicationCode.CREER_SERVICE, level=Level.MODIFICATION
        )
        dsfr_input_class_attr(self["structure"])
        self.order_fields(["structure"])

    def clean_code(self):
        # Codes are compared and stored in upper case: "compta" and "COMPTA" are one code.
        code = (self.cleaned_data.get("code") or "").strip().upper()
        if not SERVICE_CODE_PATTERN.fullmatch(code):
            raise forms.ValidationError(self.error_messages["code_characters"], code="code_characters")
        if code == RESERVED_SERVICE_CODE:
            raise forms.ValidationError(self.error_messages["reserved_code"], code="reserved_code")
        return code

    def clean_structure(self):
        structure = self.cleaned_data["structure"]
        if structure_refusal(structure):
            raise forms.ValidationError(self.error_messages["inactive_structure"], code="inactive_structure")
        return structure

    def clean(self):
        cleaned_data = super().clean()
        structure, code = cleaned_data.get("structure"), cleaned_data.get("code")
        if structure:
            self.instance.structure = structure
        if structure and code and Service.objects.filter(structure=structure, code=code).exists():
            self.add_error("code", forms.ValidationError(self.error_messages["duplicate_code"]))
        return cleaned_data

    def add_duplicate_code_error(self):
        """For the rare case where the same code was created by another request between
        clean() and save(): the database constraint refused it."""
        self.add_error("code", forms.ValidationError(self.error_messages["duplicate_code"]))


class ServiceUpdateForm(_ServiceFieldsMixin, DsfrForm, forms.ModelForm):
    """Gérer un service › Modifier: everything but the structure and the code, which
    identify the service on invoices."""

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            *ADDRESS_FIELDS,
            "valid_from",
            "valid_until",
            "commitment_required",
            "is_active",
        ]
        widgets = WIDGETS
        help_texts = HELP_TEXTS


class ServiceFilterForm(DsfrForm, forms.Form):
    """The list's filters: which structure, a text, active or not. Read from GET."""

    STATUS_CHOICES = [("", _("Tous")), ("actif", _("Actifs")), ("inactif", _("Inactifs"))]

    q = forms.CharField(
        label=_("Code ou libellé"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(label=_("Statut"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        # Added here, not declared on the class: limited to the user's structures.
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request, application_code=ApplicationCode.GERER_SERVICE, level=Level.CONSULTATION
        )
        dsfr_input_class_attr(self["structure"])
        self.order_fields(["structure", "q", "status"])

    def filter(self, queryset):
        """Apply the text and status filters (the structure is applied by the view)."""
        query = self.cleaned_data.get("q", "").strip()
        if query:
            queryset = queryset.filter(Q(code__icontains=query) | Q(name__icontains=query))
        status = self.cleaned_data.get("status")
        if status == "actif":
            queryset = queryset.filter(is_active=True)
        elif status == "inactif":
            queryset = queryset.filter(is_active=False)
        return queryset
