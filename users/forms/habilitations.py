"""Forms of Gérer les habilitations, Gérer mes habilitations and Copier les habilitations.

Every choice is limited to what the user may see: structures through the policy, users
to those attached to the chosen structure, services to that structure's. A structure
chosen in the form fills the service and user lists (a GET form: choosing changes
nothing); an id of another structure, posted by hand, is an invalid choice."""

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level, Profile
from core.forms import DsfrForm
from structures.fields import StructureChoiceField
from structures.models import Service, Structure
from users import selectors
from users.models import User
from users.services.habilitations import attached_users, grantable_applications, scope_refusal

TOKEN_SALT = "users.habilitations.staged"
# A page left open overnight starts again from what is stored.
TOKEN_MAX_AGE = 12 * 60 * 60


# Staged changes


class Staging:
    """The profiles to add and to remove, staged on the page of one user and one scope
    (`key`); serialised, signed, in a hidden field."""

    def __init__(self, key, add=(), remove=()):
        self.key = key
        self.add = list(dict.fromkeys(add))
        self.remove = list(dict.fromkeys(remove))

    def __bool__(self):
        return bool(self.add or self.remove)

    def __len__(self):
        return len(self.add) + len(self.remove)

    def dumps(self):
        return signing.dumps({"t": self.key, "a": self.add, "r": self.remove}, salt=TOKEN_SALT, compress=True)

    @classmethod
    def loads(cls, token, key):
        """The changes staged on this page; BadSignature for a forged token or one made
        for another page (SignatureExpired, a subclass, when it is too old)."""
        if not token:
            return cls(key)
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        if not isinstance(data, dict) or data.get("t") != key:
            raise signing.BadSignature("Staged changes of another page.")
        return cls(key, _ids(data.get("a")), _ids(data.get("r")))


def _ids(values):
    if not isinstance(values, list) or not all(isinstance(value, int) for value in values):
        raise signing.BadSignature("Malformed staged changes.")
    return values


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} — {obj.email}" if name else obj.email


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.code} — {obj.name}"
        return label if obj.is_active else f"{label} ({_('inactif')})"


def _service_field():
    return ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("Toute la structure"),
        help_text=_("Facultatif : des profils sur un seul service de la structure."),
    )


class _StructureScopedForm(DsfrForm, forms.Form):
    """A form whose other lists depend on the structure chosen first."""

    def selected_structure(self):
        """The chosen structure if it is one the user may choose, else None. Looked up
        once per form: the view and the form both ask."""
        if not hasattr(self, "_selected_structure"):
            self._selected_structure = self._find_selected_structure()
        return self._selected_structure

    def _find_selected_structure(self):
        value = self.data.get("structure") if self.is_bound else self.initial.get("structure")
        if isinstance(value, Structure):
            if not self.is_bound:
                return value  # given by the view, taken from this field's own choices
            value = value.pk
        if not value:
            return None
        try:
            return self.fields["structure"].queryset.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None


class HabilitationTargetForm(_StructureScopedForm):
    """Gérer les habilitations: the structure, optionally a service, and the user."""

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = KnownStructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.GERER_HABILITATIONS,
            level=Level.MODIFICATION,
        )
        self.fields["service"] = _service_field()
        self.fields["user"] = UserChoiceField(
            label=_("Utilisateur"),
            queryset=User.objects.none(),
            empty_label=_("Choisir un utilisateur"),
            help_text=_("Les utilisateurs rattachés à la structure choisie."),
        )
        structure = self.selected_structure()
        if structure is not None:
            self.fields["service"].queryset = structure.services.order_by("code")
            self.fields["user"].queryset = attached_users(structure)

    def clean(self):
        cleaned_data = super().clean()
        structure, user = cleaned_data.get("structure"), cleaned_data.get("user")
        if structure is not None and user is not None:
            refusal = scope_refusal(user=user, structure=structure, service=cleaned_data.get("service"))
            if refusal:
                self.add_error("service", refusal)
        return cleaned_data


class KnownStructureChoiceField(StructureChoiceField):
    """A structure field given the structure its form looked up already (`known`): the
    same value is not looked up again."""

    known = None

    def to_python(self, value):
        if self.known is not None and str(value) == str(self.known.pk):
            return self.known
        return super().to_python(value)


class MyScopeForm(_StructureScopedForm):
    """Gérer mes habilitations: one of my structures, optionally one of its services.
    Where I may hold profiles is read from my access context, loaded already: choosing
    costs no query for my memberships."""

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = request.user
        self.access = access.get_access(request)
        self.fields["structure"] = KnownStructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.GERER_MES_HABILITATIONS,
            level=Level.MODIFICATION,
            help_text=_("Une des structures auxquelles vous êtes rattaché."),
        )
        self.fields["structure"].queryset = selectors.my_structures(access=self.access)
        self.fields["service"] = _service_field()
        structure = self.selected_structure()
        if structure is not None:
            self.fields["service"].queryset = self._my_services(structure)
            self.fields["structure"].known = structure

    def _whole(self, structure):
        return structure.pk in self.access.structure_ids or structure.pk in self.access.managed_structure_ids

    def _my_services(self, structure):
        """What selectors.my_services() gives, from the access context."""
        services = structure.services.order_by("code")
        if self._whole(structure):
            return services
        mine = [pk for pk, of in self.access.service_structure.items() if of == structure.pk]
        return services.filter(pk__in=mine)

    def clean(self):
        cleaned_data = super().clean()
        structure, service = cleaned_data.get("structure"), cleaned_data.get("service")
        if structure is None:
            return cleaned_data
        mine = self._whole(structure) or (service is not None and service.pk in self.access.service_ids)
        if not mine:
            # Refused: the words of scope_refusal() (one query, on this path only).
            refusal = scope_refusal(user=self.user, structure=structure, service=service)
            if refusal:
                self.add_error("service", refusal)
        return cleaned_data


LEVEL_CHOICES = [(Level.CONSULTATION, _("Consultation")), (Level.MODIFICATION, _("Modification"))]


class ApplicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class ProfilePickerForm(DsfrForm, forms.Form):
    """A profile: an application opened by its own profile, at one level."""

    prefix = "profil"

    application = ApplicationChoiceField(
        label=_("Application"), queryset=grantable_applications(), empty_label=_("Choisir une application")
    )
    level = forms.TypedChoiceField(
        label=_("Niveau d’accès"),
        choices=LEVEL_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("La modification comprend la consultation."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = None
        self.fields["application"].queryset = grantable_applications()

    def is_filled(self):
        """Whether the user chose something (a Soumettre with an open, empty picker
        ignores it)."""
        return bool(self.data.get(self.add_prefix("application")) or self.data.get(self.add_prefix("level")))

    def clean(self):
        cleaned_data = super().clean()
        application, level = cleaned_data.get("application"), cleaned_data.get("level")
        if application is not None and level:
            self.profile = (
                Profile.objects.select_related("application")
                .filter(application=application, level=level)
                .first()
            )
            if self.profile is None:
                raise forms.ValidationError(_("Ce profil n’existe pas."), code="unknown_profile")
        return cleaned_data


class RequestCommentForm(DsfrForm, forms.Form):
    """What a simple user tells the managers about the profiles they ask for."""

    comment = forms.CharField(
        label=_("Commentaire pour les gestionnaires de la structure"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Facultatif : pourquoi vous avez besoin de ces profils."),
    )


class CopyForm(_StructureScopedForm):
    """Copier les habilitations: on one structure, from one attached user to another."""

    error_messages = {"same_user": _("Choisissez deux utilisateurs différents.")}

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = KnownStructureChoiceField(
            user_or_request=request,
            application_code=ApplicationCode.GERER_HABILITATIONS,
            level=Level.MODIFICATION,
        )
        self.fields["source"] = UserChoiceField(
            label=_("Copier les habilitations de"),
            queryset=User.objects.none(),
            empty_label=_("Choisir un utilisateur"),
        )
        self.fields["target"] = UserChoiceField(
            label=_("Vers l’utilisateur"),
            queryset=User.objects.none(),
            empty_label=_("Choisir un utilisateur"),
            help_text=_("Il reçoit les profils qu’il n’a pas encore ; ceux qu’il a déjà sont ignorés."),
        )
        structure = self.selected_structure()
        if structure is not None:
            self.fields["source"].queryset = attached_users(structure)
            self.fields["target"].queryset = attached_users(structure)

    def clean(self):
        cleaned_data = super().clean()
        source, target = cleaned_data.get("source"), cleaned_data.get("target")
        if source is not None and source == target:
            self.add_error(
                "target", forms.ValidationError(self.error_messages["same_user"], code="same_user")
            )
        return cleaned_data
