from django import forms
from django.db import connection, models
from dsfr.forms import DsfrBaseForm
from dsfr.utils import dsfr_input_class_attr


class DsfrForm(DsfrBaseForm):
    """The base of every portal form: DSFR rendering, without django-dsfr 3.6's
    warning on each render, and safe to narrow in __init__."""

    def __getitem__(self, name):
        bound = super().__getitem__(name)
        if bound.field is not self.fields[name]:
            # DsfrBaseForm.__init__ builds and caches every bound field; a field replaced
            # afterwards (a choice limited to the user's structures) would otherwise be
            # validated by the cached original, which accepts any structure.
            del self._bound_fields_cache[name]
            bound = super().__getitem__(name)
            if not bound.is_hidden:
                dsfr_input_class_attr(bound)
        return bound

    def get_context(self):
        # The library warns on each render until a project chooses between marking
        # required fields (today's rendering: a star, kept here) and optional ones.
        context = forms.BaseForm.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = False
        return context


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several objects by id. An id past the database's integer range is refused like
    any unknown id: Django would send it in `pk__in`, where SQLite overflows and
    PostgreSQL errors (a 500 instead of a message)."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        meta = self.queryset.model._meta
        field = meta.pk if key == "pk" else meta.get_field(key)
        if isinstance(field, models.IntegerField | models.AutoField) and isinstance(value, list | tuple):
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            for pk in value:
                try:
                    number = int(str(pk).strip())
                except ValueError:
                    continue  # not a number: Django refuses it itself
                if (low is not None and number < low) or (high is not None and number > high):
                    raise forms.ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                    )
        return super()._check_values(value)
