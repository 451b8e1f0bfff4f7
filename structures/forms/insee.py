"""Forms of the INSEE pages: enter a SIRET (Créer une structure), confirm an update from
INSEE, choose the model and the new SIRET (Dupliquer une structure)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm
from structures.fields import StructureChoiceField
from structures.models import Structure
from structures.services.insee import StructureExists
from structures.sirene import InvalidSiret, validate_siret


class SiretField(forms.CharField):
    """A SIRET typed by a person: spaces allowed, 14 digits, checksum verified (La
    Poste's rule for its establishments), French messages for each mistake."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("SIRET"))
        kwargs.setdefault("help_text", _("14 chiffres, espaces acceptés. Exemple : 812 345 676 00017"))
        # Room for the 14 digits with a separator between each (and a few more): the
        # browser stops typing at maxlength. The compact value is what is checked.
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
        )
        kwargs.setdefault("error_messages", {"required": _("Saisissez un numéro SIRET (14 chiffres).")})
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return validate_siret(value)
        except InvalidSiret as error:
            raise ValidationError(error.message, code=error.code) from None


class SiretLookupForm(DsfrForm, forms.Form):
    """Step 1 of Créer une structure: which SIRET to look up at INSEE."""

    siret = SiretField()


class StructureCreateForm(DsfrForm, forms.Form):
    """Step 2: the SIRET shown, confirmed with Soumettre."""

    siret = SiretField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        # Shown on the same page as the lookup form: ids of its own.
        kwargs.setdefault("auto_id", "confirmation_%s")
        super().__init__(*args, **kwargs)


class InseeUpdateForm(DsfrForm, forms.Form):
    """Soumettre applies the differences shown; `fingerprint` says which ones, so that
    values INSEE changed after the page was shown are not applied unseen."""

    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DuplicateForm(DsfrForm, forms.Form):
    """The model structure (among those the user may duplicate) and the new SIRET.
    With `confirm=True`, both are hidden: the confirmation of what was checked."""

    error_messages = {
        "same_siret": _("Le nouveau SIRET doit être différent de l’identifiant de la structure modèle."),
    }

    def __init__(self, data=None, *, request, confirm=False, **kwargs):
        if confirm:
            # Shown below the editable form: ids of its own.
            kwargs.setdefault("auto_id", "confirmation_%s")
        super().__init__(data, **kwargs)
        self.fields["model"] = StructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.DUPLIQUER_STRUCTURE,
            level=Level.MODIFICATION,
            label=_("Structure modèle (ancien identifiant)"),
            help_text=_("Ses services, coordonnées bancaires, pièces jointes et utilisateurs seront repris."),
        )
        self.fields["siret"] = SiretField(label=_("Nouveau SIRET"))
        if confirm:
            for field in self.fields.values():
                field.widget = forms.HiddenInput()

    def clean(self):
        cleaned_data = super().clean()
        model, siret = cleaned_data.get("model"), cleaned_data.get("siret")
        if model is None or not siret:
            return cleaned_data
        if model.identifier_type == Structure.IdentifierType.SIRET and model.identifier == siret:
            self.add_error("siret", ValidationError(self.error_messages["same_siret"], code="same_siret"))
        elif Structure.objects.filter(
            identifier_type=Structure.IdentifierType.SIRET, identifier=siret
        ).exists():
            self.add_error("siret", ValidationError(StructureExists.message, code="exists"))
        return cleaned_data
