"""Créer une pièce jointe: one or several files for a structure, all or nothing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm
from core.uploads import (
    ATTACHMENT_EXTENSIONS,
    MAX_FILES,
    formats_label,
    validate_uploads,
)
from structures.fields import StructureChoiceField

INACTIVE_STRUCTURE_MESSAGE = _(
    "Cette structure n’est pas active : ses pièces jointes ne peuvent être ni déposées ni "
    "supprimées. Activez-la d’abord (Gérer une structure › Activer une structure)."
)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django documentation, "Uploading multiple files")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, list | tuple) and data:
            return [single_file_clean(item, initial) for item in data]
        return [single_file_clean(data, initial)]


class AttachmentForm(DsfrForm, forms.Form):
    structure = forms.Field()  # replaced in __init__ by the user's structures
    files = MultipleFileField(
        label=_("Fichiers"),
        error_messages={"required": _("Choisissez au moins un fichier.")},
        # The validator says which of the files is empty.
        allow_empty_file=True,
        widget=MultipleFileInput(
            attrs={"class": "fr-upload", "accept": ",".join(f".{ext}" for ext in ATTACHMENT_EXTENSIONS)}
        ),
    )

    def __init__(self, *args, user_or_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=user_or_request,
            application_code=ApplicationCode.CREER_PIECE_JOINTE,
            level=Level.MODIFICATION,
        )
        self.fields["files"].widget.group_class = "fr-upload-group"
        self.fields["files"].help_text = _(
            "Un à %(max)d fichiers, 10 Mo au maximum chacun. Formats acceptés : %(formats)s. "
            "Les noms sont raccourcis à 50 caractères."
        ) % {"max": MAX_FILES, "formats": formats_label(ATTACHMENT_EXTENSIONS)}
        self.checked_files = []

    def clean_structure(self):
        structure = self.cleaned_data["structure"]
        if not structure.is_active:
            raise forms.ValidationError(INACTIVE_STRUCTURE_MESSAGE, code="inactive_structure")
        return structure

    def clean_files(self):
        files = self.cleaned_data["files"]
        self.checked_files = validate_uploads(
            files, too_many_message=_("Déposez %(max)d fichiers au plus à la fois.")
        )
        return files
