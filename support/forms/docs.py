"""The documentation's search form."""

from django import forms
from django.utils.translation import gettext_lazy

from support.models import DocPage


class DocSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Mots-clés"), required=False, max_length=200)
    public = forms.ChoiceField(
        label=gettext_lazy("Public"),
        required=False,
        choices=[("", gettext_lazy("Tous les publics"))]
        + [choice for choice in DocPage.Audience.choices if choice[0] != DocPage.Audience.TOUS],
    )
