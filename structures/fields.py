"""The structure picker: every "choose one of my structures" of the portal, in a form
field, a list's GET form, or a create form's preselection."""

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from chorus import access
from chorus.models import Level
from core.forms import DsfrForm
from structures.models import Structure


def structures_to_choose(user_or_request, application_code=None, level=Level.CONSULTATION):
    """The structures the user may act on with one application at one level (without
    an application: every structure the user is attached to), in the order every
    picker shows them, each labelled "identifier — name" (`Structure.__str__`)."""
    if application_code is None:
        structures = Structure.objects.filter(
            pk__in=access.get_access(user_or_request).attached_structure_ids()
        )
    else:
        structures = access.structures_for(user_or_request, application_code, level)
    return structures.order_by("company_name", "identifier")


class StructureChoiceField(forms.ModelChoiceField):
    """A choice among the structures the user may act on with one application at one
    level: another structure's id, posted by hand, is an invalid choice."""

    def __init__(self, *, user_or_request, application_code, level=Level.CONSULTATION, **kwargs):
        kwargs.setdefault("label", _("Structure"))
        kwargs.setdefault("empty_label", _("Choisir une structure"))
        super().__init__(queryset=structures_to_choose(user_or_request, application_code, level), **kwargs)


def initial_structure(request) -> dict:
    """The structure a list's "Créer" button passes (?structure=id): only preselected,
    the choice field still accepts nothing but the user's structures."""
    value = request.GET.get("structure", "")
    return {"structure": int(value)} if value.isdigit() else {}


def preselect_single_structure(form):
    """A user with a single structure has nothing to choose: it comes selected."""
    if form.initial.get("structure"):
        return None
    choices = list(form.fields["structure"].queryset[:2])
    if len(choices) == 1:
        form.initial["structure"] = choices[0].pk
    return choices[0] if len(choices) == 1 else None


class StructurePickerForm(DsfrForm, forms.Form):
    """The GET form that opens a list on one of the user's structures."""

    def __init__(self, data=None, *, user_or_request, application_code):
        super().__init__(data)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=user_or_request, application_code=application_code, level=Level.CONSULTATION
        )
        self.fields["structure"].error_messages["required"] = _("Choisissez une structure.")

    @classmethod
    def from_request(cls, request, *, application_code):
        data = request.GET if "structure" in request.GET else None
        return cls(data, user_or_request=request, application_code=application_code)

    def chosen_structure(self):
        """The structure to show: the one chosen, or the user's only one; None while
        there is a choice to make. A structure the user may not see is a 404, as in
        a URL."""
        if not self.is_bound:
            return preselect_single_structure(self)
        if self.is_valid():
            return self.cleaned_data["structure"]
        if self.data.get("structure"):
            raise Http404
        return None
