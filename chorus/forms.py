from django import forms
from dsfr.forms import DsfrBaseForm


class DsfrForm(DsfrBaseForm):
    """The base of every portal form: DSFR rendering, without django-dsfr 3.6's
    warning on each render.

    That warning asks each project to choose between marking required fields (today's
    rendering: a star, kept here) and marking optional ones; setting the choice in the
    form's context is the library's advice."""

    def get_context(self):
        context = forms.BaseForm.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = False
        return context
