"""Forms of Transférer le gestionnaire principal: one per *type de demande*.

Each form is given the structures the user is principal manager of; the new principal
manager is always chosen among the users attached to the structure (validated
structure-level attachment), so another user's id, posted by hand, is an invalid choice."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.forms import DsfrForm, ModelMultipleChoiceField
from structures.models import Structure
from users.models import Membership

User = get_user_model()

UNITARY = "unitaire"
GLOBAL = "global"
MULTIPLE = "multiple"

TYPE_CHOICES = [
    (UNITARY, _("Transfert unitaire")),
    (GLOBAL, _("Transfert global")),
    (MULTIPLE, _("Transfert à sélection multiple")),
]


def attached_users(structure_ids, *, exclude, attached_to_all=False):
    """Active users with a validated structure-level attachment to these structures
    (to at least one of them, or to every one with `attached_to_all`), but `exclude`."""
    structure_ids = list(structure_ids)
    queryset = (
        User.objects.filter(
            is_active=True,
            memberships__structure__in=structure_ids,
            memberships__service__isnull=True,
            memberships__status=Membership.Status.VALIDEE,
        )
        .exclude(pk=exclude.pk)
        .order_by("last_name", "first_name", "email")
    )
    if attached_to_all:
        # Counted on the attachments the filter above kept.
        return queryset.annotate(attached_count=Count("memberships__structure", distinct=True)).filter(
            attached_count=len(structure_ids)
        )
    return queryset.distinct()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} — {obj.email}" if name else obj.email


class StructuresChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.identifier} — {obj.display_name}"


class TransferTypeForm(DsfrForm, forms.Form):
    """The *Type de demande* switch, read from GET (the page works without JavaScript)."""

    type = forms.ChoiceField(label=_("Type de demande"), choices=TYPE_CHOICES, initial=UNITARY)

    def chosen(self) -> str:
        if self.is_bound and self.is_valid():
            return self.cleaned_data["type"]
        return UNITARY


class _TransferForm(DsfrForm, forms.Form):
    """What the three forms share: the user (the current principal manager) and their
    structures; `transfers()` gives the (structure, new principal manager) pairs."""

    type_value = None

    def __init__(self, data=None, *, user, structures, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.structures = list(structures)
        self.structure_ids = [structure.pk for structure in self.structures]

    @property
    def can_submit(self) -> bool:
        """False when there is nobody to transfer to: the page explains why instead."""
        return attached_users(self.structure_ids, exclude=self.user).exists()


class UnitaryTransferForm(_TransferForm):
    """For each of my structures, the user who takes over, or nobody."""

    type_value = UNITARY
    error_messages = {"nothing": _("Choisissez le nouveau gestionnaire principal d’au moins une structure.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for structure in self.structures:
            self.fields[self.field_name(structure)] = UserChoiceField(
                label=f"{structure.identifier} — {structure.display_name}",
                queryset=attached_users([structure.pk], exclude=self.user),
                required=False,
                empty_label=_("— ne pas transférer —"),
                help_text=_("Utilisateurs rattachés à cette structure."),
            )

    @staticmethod
    def field_name(structure):
        return f"structure_{structure.pk}"

    def clean(self):
        cleaned_data = super().clean()
        if not self.errors and not self.transfers():
            raise forms.ValidationError(self.error_messages["nothing"], code="nothing")
        return cleaned_data

    def transfers(self):
        pairs = []
        for structure in self.structures:
            new_manager = self.cleaned_data.get(self.field_name(structure))
            if new_manager is not None:
                pairs.append((structure, new_manager))
        return pairs


class GlobalTransferForm(_TransferForm):
    """One user takes all my active structures: only users attached to every one can.

    Deactivated structures are left out (`kept`): nobody can be attached to them any
    more, so requiring the new principal manager to be attached to them too would make
    the transfer impossible; they stay with the current principal manager (see
    structures_transfer_principal_manager_global)."""

    type_value = GLOBAL

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.active = [s for s in self.structures if s.status != Structure.Status.INACTIVE]
        self.kept = [s for s in self.structures if s.status == Structure.Status.INACTIVE]
        active_ids = [structure.pk for structure in self.active]
        if self.kept:
            label = _("Nouveau gestionnaire principal de toutes vos structures actives")
            help_text = _(
                "Seuls les utilisateurs rattachés à chacune de vos structures actives sont proposés."
            )
        else:
            label = _("Nouveau gestionnaire principal de toutes vos structures")
            help_text = _("Seuls les utilisateurs rattachés à chacune de vos structures sont proposés.")
        self.fields["new_manager"] = UserChoiceField(
            label=label,
            queryset=(
                attached_users(active_ids, exclude=self.user, attached_to_all=True)
                if active_ids
                else User.objects.none()
            ),
            empty_label=_("Choisir un utilisateur"),
            help_text=help_text,
        )

    @property
    def can_submit(self):
        return bool(self.active) and self.fields["new_manager"].queryset.exists()

    def transfers(self):
        new_manager = self.cleaned_data["new_manager"]
        return [(structure, new_manager) for structure in self.active]


class MultipleTransferForm(_TransferForm):
    """Several of my structures, chosen, to one user attached to all of them."""

    type_value = MULTIPLE
    error_messages = {
        "not_attached": _(
            "%(user)s n’est pas rattaché à toutes les structures choisies (%(structures)s) : "
            "il ne peut pas en devenir le gestionnaire principal."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structures"] = StructuresChoiceField(
            label=_("Structures à transférer"),
            queryset=Structure.objects.filter(pk__in=self.structure_ids).order_by(
                "company_name", "identifier"
            ),
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["new_manager"] = UserChoiceField(
            label=_("Nouveau gestionnaire principal des structures choisies"),
            queryset=attached_users(self.structure_ids, exclude=self.user),
            empty_label=_("Choisir un utilisateur"),
            help_text=_("Il doit être rattaché à chacune des structures choisies."),
        )

    def clean(self):
        cleaned_data = super().clean()
        chosen, new_manager = cleaned_data.get("structures"), cleaned_data.get("new_manager")
        if chosen and new_manager:
            attached = set(
                Membership.objects.filter(
                    user=new_manager,
                    structure__in=chosen,
                    service__isnull=True,
                    status=Membership.Status.VALIDEE,
                ).values_list("structure_id", flat=True)
            )
            missing = [structure for structure in chosen if structure.pk not in attached]
            if missing:
                names = ", ".join(structure.display_name for structure in missing)
                self.add_error(
                    "new_manager",
                    forms.ValidationError(
                        self.error_messages["not_attached"],
                        params={"user": new_manager.email, "structures": names},
                    ),
                )
        return cleaned_data

    def transfers(self):
        new_manager = self.cleaned_data["new_manager"]
        return [(structure, new_manager) for structure in self.cleaned_data["structures"]]


FORMS = {form.type_value: form for form in (UnitaryTransferForm, GlobalTransferForm, MultipleTransferForm)}
