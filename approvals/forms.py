from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.utils import dsfr_input_class_attr

from approvals.models import ApprovalRequest
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.forms import DsfrForm, ModelMultipleChoiceField
from core.uploads import PDF_ONLY, validate_upload
from structures.fields import StructureChoiceField
from structures.models import Service, Structure, StructureClaim


def normalize_identifier(text):
    """ "812 345 676 00017" → "81234567600017": people paste SIRETs with spaces."""
    return "".join(text.split())


def structures_with_identifier(identifier):
    """The structures whose identifier is exactly this one (one, or a few of different
    identifier types). Never a partial match: structures are not listed."""
    identifier = normalize_identifier(identifier or "")
    if not identifier:
        return Structure.objects.none()
    return Structure.objects.filter(identifier__iexact=identifier).order_by("identifier_type")


class FindStructureForm(DsfrForm):
    """Step 1 of *Demander un rattachement*: the identifier typed in full."""

    identifiant = forms.CharField(
        label=_("SIRET ou identifiant de la structure"),
        max_length=80,
        help_text=_("Saisissez l’identifiant complet, par exemple les 14 chiffres du SIRET."),
    )


class AttachmentRequestForm(DsfrForm):
    """Step 2: the structure found, optionally some of its services, a comment."""

    identifiant = forms.CharField(widget=forms.HiddenInput)
    structure = forms.ModelChoiceField(
        label=_("Structure"),
        queryset=Structure.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Cette structure est introuvable : recommencez la recherche.")},
    )
    services = ModelMultipleChoiceField(
        label=_("Services (facultatif)"),
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sans service coché, la demande porte sur toute la structure (maille structure)."),
        error_messages={"invalid_choice": _("Un des services choisis n’appartient pas à cette structure.")},
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Précisez votre fonction ou la raison de la demande, pour les gestionnaires."),
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        structures = list(structures)
        self.fields["structure"].queryset = Structure.objects.filter(pk__in=[s.pk for s in structures])
        if len(structures) > 1:
            # Same identifier, different identifier types: the user picks one.
            self.fields["structure"].widget = forms.RadioSelect()
            self.fields["structure"].widget.choices = self.fields["structure"].choices
            self.fields["structure"].label_from_instance = lambda s: (
                f"{s.identifier} — {s.display_name} ({s.get_identifier_type_display()})"
            )
            dsfr_input_class_attr(self["structure"])
        self.fields["services"].queryset = Service.objects.filter(
            structure__in=[s.pk for s in structures], is_active=True
        ).order_by("name", "code")
        self.fields["services"].label_from_instance = lambda service: f"{service.name} ({service.code})"

    def clean(self):
        cleaned_data = super().clean()
        # The form shows no error next to a hidden field: say it above the form.
        for name in ("identifiant", "structure"):
            if name in self._errors and self.fields[name].widget.is_hidden:
                for error in self._errors.pop(name):
                    self.add_error(None, error)
        structure, services = cleaned_data.get("structure"), cleaned_data.get("services") or []
        if structure is not None and any(service.structure_id != structure.pk for service in services):
            self.add_error("services", self.fields["services"].error_messages["invalid_choice"])
        return cleaned_data


class StructureClaimForm(DsfrForm):
    """Signaler une structure usurpée / revendiquer cette structure: the structure found
    by its identifier typed in full, why, and optionally a PDF proof."""

    identifiant = forms.CharField(widget=forms.HiddenInput)
    structure = forms.ModelChoiceField(
        label=_("Structure"),
        queryset=Structure.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Cette structure est introuvable : recommencez la recherche."),
            "invalid_choice": _("Cette structure est introuvable : recommencez la recherche."),
        },
    )
    explanation = forms.CharField(
        label=_("Pourquoi revendiquez-vous cette structure ?"),
        max_length=StructureClaim.MAX_EXPLANATION_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Votre fonction dans la structure, ce qui montre que la personne qui l’administre sur le portail "
            "n’en fait pas partie. Seuls les opérateurs du portail lisent ce texte."
        ),
        error_messages={"required": _("Expliquez pourquoi vous revendiquez cette structure.")},
    )
    proof = forms.FileField(
        label=_("Justificatif (facultatif)"),
        required=False,
        help_text=_(
            "Un PDF de 10 Mo au plus : extrait Kbis, délégation de pouvoir, attestation de l’employeur…"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        structures = list(structures)
        self.checked_proof = None
        self.fields["structure"].queryset = Structure.objects.filter(pk__in=[s.pk for s in structures])
        if len(structures) > 1:
            # Same identifier, different identifier types: the user picks one.
            self.fields["structure"].widget = forms.RadioSelect()
            self.fields["structure"].widget.choices = self.fields["structure"].choices
            self.fields["structure"].label_from_instance = lambda s: (
                f"{s.identifier} — {s.display_name} ({s.get_identifier_type_display()})"
            )
            dsfr_input_class_attr(self["structure"])
        self.fields["proof"].widget.group_class = "fr-upload-group"

    def clean_proof(self):
        proof = self.cleaned_data.get("proof")
        if proof:
            self.checked_proof = validate_upload(proof, extensions=PDF_ONLY)
        return proof

    def clean(self):
        cleaned_data = super().clean()
        # The form shows no error next to a hidden field: say it above the form.
        for name in ("identifiant", "structure"):
            if name in self._errors and self.fields[name].widget.is_hidden:
                for error in self._errors.pop(name):
                    self.add_error(None, error)
        return cleaned_data


class InboxFilterForm(DsfrForm):
    """Filters of the approvers' list (GET)."""

    kind = forms.ChoiceField(
        label=_("Type de demande"),
        required=False,
        choices=[("", _("Tous les types")), *ApprovalRequest.Kind.choices],
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.ORGANISATION,
            level=Level.MODIFICATION,
            required=False,
            empty_label=_("Toutes mes structures"),
        )
        dsfr_input_class_attr(self["structure"])


class RefusalForm(DsfrForm):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Il est envoyé au demandeur."),
        error_messages={"required": _("Indiquez le motif du refus.")},
    )


class BulkDecisionForm(DsfrForm):
    """Several requests decided at once; a refusal gives one reason for all."""

    APPROVE, REFUSE = "approuver", "refuser"

    requests = ModelMultipleChoiceField(
        label=_("Demandes sélectionnées"),
        queryset=ApprovalRequest.objects.none(),
        error_messages={
            "required": _("Sélectionnez au moins une demande."),
            "invalid_choice": _("Une des demandes sélectionnées est introuvable."),
            "invalid_pk_value": _("Une des demandes sélectionnées est introuvable."),
        },
    )
    decision = forms.ChoiceField(
        label=_("Décision pour les demandes sélectionnées"),
        choices=[(APPROVE, _("Approuver")), (REFUSE, _("Refuser"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez d’approuver ou de refuser les demandes sélectionnées.")},
    )
    reason = forms.CharField(
        label=_("Motif du refus"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire pour refuser : il est envoyé à chaque demandeur."),
    )

    def __init__(self, *args, decidable, **kwargs):
        super().__init__(*args, **kwargs)
        # Decided requests stay selectable, to be reported as already decided; another
        # structure's request is not in the queryset: an invalid choice.
        self.fields["requests"].queryset = decidable

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("decision") == self.REFUSE and not cleaned_data.get("reason", "").strip():
            self.add_error("reason", _("Indiquez le motif du refus : il est envoyé à chaque demandeur."))
        return cleaned_data

    @property
    def approve(self):
        return self.cleaned_data["decision"] == self.APPROVE
