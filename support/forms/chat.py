"""Forms of Échange avec un agent: the theme to start with, and a message."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import DsfrForm
from support.models import Category
from support.services import chat as chat_services


class ChatStartForm(DsfrForm):
    theme = forms.ModelChoiceField(
        label=_("Thème de votre question"),
        queryset=Category.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choisissez le thème de votre question."),
            "invalid_choice": _("Ce thème n’est pas proposé : choisissez-en un dans la liste."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Category.objects.filter(is_active=True).order_by("order", "name")


class ChatMessageForm(DsfrForm):
    body = forms.CharField(
        label=_("Votre message"),
        help_text=_("4 000 caractères au maximum."),
        widget=forms.Textarea(attrs={"rows": 3}),
        # Checked by chat_services.check_body (the same rule as the service), not by the browser:
        # a too-long message gets the French error rather than being cut silently.
        required=False,
        strip=False,
    )

    def clean_body(self):
        try:
            return chat_services.check_body(self.cleaned_data.get("body"))
        except chat_services.ChatRefused as refused:
            raise forms.ValidationError(refused.message) from None
