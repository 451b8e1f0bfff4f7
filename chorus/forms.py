from django import forms
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
