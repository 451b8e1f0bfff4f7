from django import forms
from django.utils.translation import gettext_lazy as _

from chorus import access
from chorus.models import Level


class StructureChoiceField(forms.ModelChoiceField):
    """A choice among the structures the user may act on with one application at one
    level: another structure's id, posted by hand, is an invalid choice."""

    def __init__(self, *, user_or_request, application_code, level=Level.CONSULTATION, **kwargs):
        kwargs.setdefault("label", _("Structure"))
        kwargs.setdefault("empty_label", _("Choisir une structure"))
        queryset = access.structures_for(user_or_request, application_code, level).order_by(
            "company_name", "identifier"
        )
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.identifier} — {obj.display_name}"
