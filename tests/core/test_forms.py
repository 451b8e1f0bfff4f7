from django import forms

from core.forms import DsfrForm
from structures.fields import StructureChoiceField
from structures.models import Structure
from tests import factories


class NarrowedForm(DsfrForm, forms.ModelForm):
    class Meta:
        model = factories.ServiceFactory._meta.model
        fields = ["structure", "code", "name"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"] = StructureChoiceField(
            user_or_request=user, application_code="CREER_SERVICE"
        )


def test_a_field_narrowed_after_init_validates_with_the_narrowed_choices(structure, principal_manager):
    elsewhere = factories.StructureFactory()
    form = NarrowedForm({"structure": elsewhere.pk, "code": "X", "name": "X"}, user=principal_manager)
    assert not form.is_valid()
    assert "structure" in form.errors
    assert Structure.objects.count() == 2

    form = NarrowedForm({"structure": structure.pk, "code": "X", "name": "X"}, user=principal_manager)
    assert form.is_valid(), form.errors


def test_a_narrowed_field_keeps_the_dsfr_style(structure, principal_manager):
    form = NarrowedForm(user=principal_manager)
    assert "fr-select" in str(form["structure"])
