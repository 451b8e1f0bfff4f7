"""Forms of the agents' back-office (Tickets reçus)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.forms import DsfrForm
from support.models import Category, Queue, Ticket
from support.services.agents import MAX_MESSAGE_LENGTH

S = Ticket.Status

MINE, UNASSIGNED = "moi", "non-affectes"
ALL_STATUSES = "tous"


class QueueFilterForm(DsfrForm, forms.Form):
    """The list's filters. Every value comes from a fixed set of choices: nothing from
    the query string reaches order_by() or a lookup name."""

    queue = forms.ModelChoiceField(
        label=_("File d’attente"),
        queryset=Queue.objects.all(),
        required=False,
        empty_label=_("Toutes les files"),
    )
    category = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=_("Toutes les catégories"),
    )
    status = forms.ChoiceField(
        label=_("Statut"),
        required=False,
        choices=[
            ("", _("À traiter (non clôturés)")),
            (ALL_STATUSES, _("Tous les statuts")),
            *[(value, label) for value, label in S.choices if value != S.BROUILLON],
        ],
    )
    assignment = forms.ChoiceField(
        label=_("Affectation"),
        required=False,
        choices=[("", _("Tous les tickets")), (MINE, _("Mes tickets")), (UNASSIGNED, _("Non affectés"))],
    )
    q = forms.CharField(
        label=_("Numéro ou titre"), required=False, max_length=100, help_text=_("ex. T-2026-000001")
    )

    def filter(self, tickets, user):
        data = self.cleaned_data
        if data.get("queue"):
            tickets = tickets.filter(queue=data["queue"])
        if data.get("category"):
            tickets = tickets.filter(category=data["category"])
        status = data.get("status")
        if not status:
            tickets = tickets.exclude(status=S.CLOTURE)
        elif status != ALL_STATUSES:
            tickets = tickets.filter(status=status)
        if data.get("assignment") == MINE:
            tickets = tickets.filter(assigned_to=user)
        elif data.get("assignment") == UNASSIGNED:
            tickets = tickets.filter(assigned_to__isnull=True)
        if data.get("q"):
            tickets = tickets.filter(Q(number__icontains=data["q"]) | Q(title__icontains=data["q"]))
        return tickets


def _message_field(label, help_text, required_message):
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": required_message,
            "max_length": _(
                "Le message ne doit pas dépasser %(limit_value)d caractères (actuellement %(show_value)d)."
            ),
        },
    )


class ReplyForm(DsfrForm, forms.Form):
    message = _message_field(
        _("Votre réponse"),
        _("Envoyée au demandeur par courriel ; le statut du ticket ne change pas."),
        _("Saisissez votre réponse."),
    )


class InformationRequestForm(DsfrForm, forms.Form):
    message = _message_field(
        _("Informations demandées"),
        _("Dites au demandeur ce qu’il doit apporter : le ticket attendra sa réponse."),
        _("Précisez les informations que vous demandez."),
    )


class SolutionForm(DsfrForm, forms.Form):
    message = _message_field(
        _("Solution proposée"),
        _("Le demandeur pourra l’accepter (le ticket est clôturé) ou la refuser avec un commentaire."),
        _("Décrivez la solution proposée."),
    )


class NoteForm(DsfrForm, forms.Form):
    message = _message_field(
        _("Note interne"),
        _("Visible des seuls agents : le demandeur ne la voit pas et n’en est pas averti."),
        _("Saisissez la note."),
    )


class TransferForm(DsfrForm, forms.Form):
    queue = forms.ModelChoiceField(
        label=_("Nouvelle file"),
        queryset=Queue.objects.none(),
        error_messages={
            "required": _("Choisissez la file vers laquelle transférer le ticket."),
            "invalid_choice": _("Choisissez une file différente de la file actuelle du ticket."),
        },
    )
    reason = _message_field(
        _("Motif du transfert"),
        _("Envoyé au demandeur par courriel. Le ticket ne sera plus affecté à personne."),
        _("Indiquez le motif du transfert."),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        # Set on the field DsfrForm already bound: only another queue can be chosen.
        self.fields["queue"].queryset = Queue.objects.exclude(pk=ticket.queue_id)


class AssignForm(DsfrForm, forms.Form):
    """M’affecter: one button, carrying the agent the page showed (if any), so that a
    colleague taking the ticket meanwhile is not overridden unawares."""

    replacing = forms.IntegerField(required=False, widget=forms.HiddenInput)
