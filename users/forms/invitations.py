"""Forms of the user's own invitations and attachments: answer an invitation, leave a
structure. Each choice is limited to the requesting user's own objects: another
user's id, posted by hand, is an invalid choice."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import DsfrForm
from users.models import Membership
from users.selectors import invitations_pending_for

ACCEPT = "accepter"
DECLINE = "refuser"


class InvitationAnswerForm(DsfrForm, forms.Form):
    invitation = forms.ModelChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Cette invitation n’existe pas, a expiré ou a déjà reçu une réponse."),
            "invalid_choice": _("Cette invitation n’existe pas, a expiré ou a déjà reçu une réponse."),
        },
    )
    decision = forms.ChoiceField(
        choices=[(ACCEPT, _("Accepter")), (DECLINE, _("Refuser"))],
        error_messages={
            "required": _("Choisissez d’accepter ou de refuser l’invitation."),
            "invalid_choice": _("Choisissez d’accepter ou de refuser l’invitation."),
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitation"].queryset = invitations_pending_for(user=user)


class LeaveForm(DsfrForm, forms.Form):
    membership = forms.ModelChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Ce rattachement n’existe pas ou a déjà pris fin."),
            "invalid_choice": _("Ce rattachement n’existe pas ou a déjà pris fin."),
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = Membership.objects.filter(
            user=user, status=Membership.Status.VALIDEE
        ).select_related("structure", "service")
