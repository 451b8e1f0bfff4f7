"""The assistant's question form."""

from django import forms
from django.utils.translation import gettext_lazy

from support.selectors import assistant


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=gettext_lazy("Votre question"),
        max_length=assistant.MAX_QUESTION_LENGTH,
        error_messages={
            "required": gettext_lazy("Saisissez votre question."),
            "max_length": gettext_lazy("Votre question dépasse 1 000 caractères : raccourcissez-la."),
        },
    )
