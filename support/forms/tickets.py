"""Forms of the requester's side of Support: the ticket (draft or submission), the
logged-out form with its challenge against bots, the answers on a ticket, the rating
and the filters of Tickets émis."""

import random
import secrets
import time

from django import forms
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from chorus import access
from core import uploads
from core.forms import DsfrForm
from core.kept_uploads import kept_uploads_for
from core.uploads import ATTACHMENT_EXTENSIONS, formats_label, validate_uploads
from structures.fields import structures_to_choose
from structures.forms.attachments import MultipleFileField, MultipleFileInput
from structures.models import Structure
from support.models import Category, Queue, SubCategory

# The same limit as a structure's attachments: the request-size guard is computed from it.
MAX_FILES = uploads.MAX_FILES
MAX_DESCRIPTION_LENGTH = 10_000
MAX_MESSAGE_LENGTH = 5_000

DRAFT, SUBMIT = "draft", "submit"
# The checkboxes of the files kept from a submission that came back with an error.
KEPT_FIELD = "files_kept"


def files_field():
    return MultipleFileField(
        label=_("Ajouter un fichier"),
        required=False,
        # The validator says which of the files is empty.
        allow_empty_file=True,
        widget=MultipleFileInput(
            attrs={"class": "fr-upload", "accept": ",".join(f".{ext}" for ext in ATTACHMENT_EXTENSIONS)}
        ),
    )


class FilesMixin:
    """Attachments: the same rules as a structure's (core.uploads), each
    message naming its file; the checked files wait in `checked_files`.

    With a request, the accepted files of a submission that comes back with an error
    (another file refused, a missing title) are kept (core.kept_uploads): the page
    lists them, each one can be unticked, and they are attached on the next submission
    without being chosen again. Only the refused files (`refused_files`) are to be chosen
    again."""

    kept_purpose = "support_files"

    def setup_files(self, request=None):
        self.checked_files = []
        self.kept_uploads = kept_uploads_for(request, self.kept_purpose) if request is not None else None
        # KeptFile of every file kept for the page shown again; names of refused files.
        self.kept_files = []
        self.refused_files = []
        self._new_accepted = []
        self.fields["files"].widget.group_class = "fr-upload-group"
        self.fields["files"].help_text = _(
            "Glissez-déposez vos fichiers ici ou choisissez-les : %(max)d fichiers au plus, 10 Mo au maximum "
            "chacun. Formats acceptés : %(formats)s."
        ) % {"max": MAX_FILES, "formats": formats_label(ATTACHMENT_EXTENSIONS)}

    def clean_files(self):
        files = [uploaded for uploaded in self.cleaned_data.get("files") or [] if uploaded]
        if self.kept_uploads is None:
            self.checked_files = validate_uploads(
                files, too_many_message=_("Joignez %(max)d fichiers au plus.")
            )
            return files
        tokens = self.data.getlist(KEPT_FIELD) if hasattr(self.data, "getlist") else []
        kept, errors = self.kept_uploads.resolve(tokens[:MAX_FILES])
        self.kept_files = [kept_file for _copy, _checked, kept_file in kept]
        if len(files) + len(kept) > MAX_FILES:
            raise forms.ValidationError(
                _("Joignez %(max)d fichiers au plus."), code="too_many", params={"max": MAX_FILES}
            )
        accepted, refused = uploads.check_uploads(files)
        accepted_files = {id(uploaded) for uploaded, _checked in accepted}
        self.refused_files = [
            uploads.clean_file_name(uploaded.name)
            for uploaded in files
            if id(uploaded) not in accepted_files
        ]
        self._new_accepted = accepted
        self.checked_files = [(copy, checked) for copy, checked, _kept in kept] + accepted
        if errors or refused:
            raise forms.ValidationError([*refused, *errors])
        return files

    def full_clean(self):
        super().full_clean()
        if self._errors:
            self.keep_files()

    def keep_files(self):
        """After an error, keep the newly accepted files for the page shown again."""
        if self.kept_uploads is None:
            return
        for uploaded, checked in self._new_accepted:
            self.kept_files.append(self.kept_uploads.keep(uploaded, checked))
        self._new_accepted = []

    @property
    def refused_names(self) -> str:
        return ", ".join(f"« {name} »" for name in self.refused_files)

    def discard_kept(self):
        """Once the files are attached, their kept copies are no longer needed."""
        if self.kept_uploads is not None and self.kept_files:
            self.kept_uploads.discard(self.kept_files)


class CategoryMixin:
    """Category then sub-category. Without JavaScript the sub-category list holds the
    chosen category's sub-categories (the page is shown again, by GET, once the
    category is chosen); with it, a small script filters the list from `routing`."""

    def setup_categories(self):
        self.fields["category"].queryset = Category.objects.filter(is_active=True).order_by("order", "name")
        self.fields["subcategory"].queryset = SubCategory.objects.filter(
            is_active=True, category__is_active=True
        )
        subcategories = list(
            SubCategory.objects.filter(is_active=True, category__is_active=True).order_by(
                "category__order", "category__name", "order", "name"
            )
        )
        recipients = {queue.code: queue.recipient_label for queue in Queue.objects.all()}
        self.routing = {}
        for subcategory in subcategories:
            self.routing.setdefault(str(subcategory.category_id), []).append(
                {
                    "id": str(subcategory.pk),
                    "name": subcategory.label,
                    "object_type": subcategory.object_type_label,
                    "recipient": recipients.get(subcategory.queue_code, ""),
                }
            )
        chosen_category = str(self._value("category") or "")
        chosen_subcategory = str(self._value("subcategory") or "")
        options = self.routing.get(chosen_category, [])
        self.fields["subcategory"].widget.attrs.update(
            {
                "data-empty-none": str(_("Choisissez d’abord une catégorie")),
                "data-empty-some": str(_("Choisir une sous-catégorie")),
            }
        )
        self.fields["subcategory"].widget.choices = [
            ("", _("Choisir une sous-catégorie") if options else _("Choisissez d’abord une catégorie")),
            *((option["id"], option["name"]) for option in options),
        ]
        chosen = next((option for option in options if option["id"] == chosen_subcategory), None)
        self.object_type = chosen["object_type"] if chosen else ""
        self.recipient = chosen["recipient"] if chosen else ""

    def _value(self, name):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name)
        return getattr(value, "pk", value)

    def clean(self):
        cleaned = super().clean()
        category, subcategory = cleaned.get("category"), cleaned.get("subcategory")
        if subcategory is not None and category is not None and subcategory.category_id != category.pk:
            self.add_error(
                "subcategory",
                forms.ValidationError(
                    _("Cette sous-catégorie n’appartient pas à la catégorie « %(category)s »."),
                    code="wrong_category",
                    params={"category": category},
                ),
            )
        elif subcategory is not None and category is None and "category" not in self.errors:
            self.add_error("category", _("Choisissez la catégorie de cette sous-catégorie."))
        return cleaned


REQUIRED_MESSAGES = {
    "category": _("Choisissez une catégorie."),
    "subcategory": _("Choisissez une sous-catégorie."),
    "structure": _("Choisissez la structure émettrice."),
    "contact_email": _("Indiquez une adresse électronique de contact."),
    "email": _("Indiquez votre adresse électronique : les réponses vous y parviendront."),
    "title": _("Donnez un titre à votre demande."),
    "description": _("Décrivez votre demande."),
}


def _require(form, names, required):
    for name in names:
        if name in form.fields:
            form.fields[name].required = required
            form.fields[name].error_messages["required"] = REQUIRED_MESSAGES[name]


class TicketForm(CategoryMixin, FilesMixin, DsfrForm, forms.Form):
    """Créer un ticket / modifier un brouillon. A draft may lack anything; Soumettre
    requires what the support needs. The émetteur is one of the user's structures."""

    category = forms.ModelChoiceField(
        label=_("Catégorie"), queryset=Category.objects.none(), empty_label=_("Choisir une catégorie")
    )
    subcategory = forms.ModelChoiceField(label=_("Sous-catégorie"), queryset=SubCategory.objects.none())
    object_number = forms.CharField(
        label=_("Numéro de l’objet"),
        max_length=60,
        required=False,
        help_text=_("Par exemple le numéro de la facture ou l’identifiant de la structure concernée."),
    )
    structure = forms.ModelChoiceField(
        label=_("Identifiant de la structure émettrice"),
        queryset=Structure.objects.none(),
        empty_label=_("Choisir une structure"),
    )
    contact_email = forms.EmailField(
        label=_("Adresse électronique de contact"),
        max_length=254,
        help_text=_("Les réponses du support vous sont signalées à cette adresse."),
    )
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    title = forms.CharField(label=_("Titre"), max_length=200)
    summary = forms.CharField(
        label=_("Résumé"),
        max_length=500,
        required=False,
        help_text=_("En une phrase : ce qui se passe et ce que vous attendez."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=MAX_DESCRIPTION_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Les étapes suivies, les messages d’erreur affichés, les dates."),
    )
    files = files_field()

    def __init__(self, *args, request, action=SUBMIT, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if access.get_access(request).attached_structure_ids():
            self.fields["structure"].queryset = structures_to_choose(request)
        else:
            # A user attached to no structure writes on their own behalf.
            del self.fields["structure"]
        self.setup_categories()
        self.setup_files(request)
        # A draft may be saved half-filled; the stars and the browser's checks show
        # what Soumettre will require.
        _require(
            self,
            ("category", "subcategory", "structure", "contact_email", "title", "description"),
            required=action == SUBMIT,
        )
        # DsfrBaseForm built the bound fields with the declared (empty) querysets.
        self._bound_fields_cache.clear()

    def ticket_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.fields if name != "files"}
        data.setdefault("structure", None)
        return data


class TicketFilterForm(DsfrForm, forms.Form):
    """Search and filters of Tickets émis (GET). Unknown values are ignored."""

    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=200,
        help_text=_("Numéro, titre, résumé ou description"),
    )
    category = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("Toutes les catégories"),
    )
    order = forms.ChoiceField(
        label=_("Ordre des dates"),
        required=False,
        choices=[("desc", _("Les plus récents d’abord")), ("asc", _("Les plus anciens d’abord"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("order", "name")
        self._bound_fields_cache.clear()

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {"q": "", "category": None, "order": "desc"}
        return {
            "q": self.cleaned_data["q"].strip(),
            "category": self.cleaned_data["category"],
            "order": self.cleaned_data["order"] or "desc",
        }


class MessageForm(FilesMixin, DsfrForm, forms.Form):
    """Apporter un complément d’information."""

    message = forms.CharField(
        label=_("Votre complément d’information"),
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Écrivez votre complément d’information.")},
    )
    files = files_field()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_files(request)


class RefuseForm(DsfrForm, forms.Form):
    message = forms.CharField(
        label=_("Pourquoi la solution ne vous convient-elle pas ?"),
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Expliquez pourquoi la solution ne vous convient pas.")},
    )


class CommentForm(DsfrForm, forms.Form):
    """Accepter la solution, Clôturer: an optional word for the support."""

    message = forms.CharField(
        label=_("Commentaire"),
        max_length=MAX_MESSAGE_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RatingForm(DsfrForm, forms.Form):
    score = forms.TypedChoiceField(
        label=_("Votre satisfaction"),
        coerce=int,
        choices=[
            (1, _("1 – Très insatisfait")),
            (2, _("2 – Insatisfait")),
            (3, _("3 – Moyennement satisfait")),
            (4, _("4 – Satisfait")),
            (5, _("5 – Très satisfait")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une note de 1 à 5.")},
    )
    comment = forms.CharField(
        label=_("Commentaire"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


# The logged-out form

CHALLENGE_SALT = "support.public-ticket.challenge"
CHALLENGE_MAX_AGE = 60 * 60  # seconds to fill in the form
MIN_FILL_SECONDS = 3  # a person does not fill in five fields faster


CHALLENGE_CACHE_PREFIX = "support:public-ticket:challenge:"


def challenge_token(a: int, b: int, *, issued_at: float | None = None) -> str:
    """A signed arithmetic question: the answer cannot be read from the page and the
    question cannot be changed. Its random nonce waits in the shared cache until one
    submission uses it: a solved question opens one ticket, not one per replay."""
    nonce = secrets.token_urlsafe(16)
    cache.set(CHALLENGE_CACHE_PREFIX + nonce, 1, timeout=CHALLENGE_MAX_AGE)
    return signing.dumps(
        {"a": a, "b": b, "t": int(issued_at if issued_at is not None else time.time()), "n": nonce},
        salt=CHALLENGE_SALT,
    )


def new_challenge() -> str:
    return challenge_token(random.randint(1, 9), random.randint(1, 9))


def read_challenge(token):
    try:
        value = signing.loads(token or "", salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(key), int) for key in ("a", "b", "t")):
        return None
    if not isinstance(value.get("n"), str):
        return None
    if time.time() - value["t"] > CHALLENGE_MAX_AGE:
        return None
    return value


def consume_challenge(challenge) -> bool:
    """True for the one submission that uses this question. The delete is atomic in
    every cache backend (and in Redis across servers): of two submissions at the same
    instant, only one sees the nonce go."""
    return bool(cache.delete(CHALLENGE_CACHE_PREFIX + challenge["n"]))


class PublicTicketForm(CategoryMixin, DsfrForm, forms.Form):
    """For people who cannot log in: the ticket is submitted at once; replies go by
    email. A signed sum to compute, a field people do not see (bots fill it) and a
    minimum filling time keep robots out."""

    category = forms.ModelChoiceField(
        label=_("Catégorie"), queryset=Category.objects.none(), empty_label=_("Choisir une catégorie")
    )
    subcategory = forms.ModelChoiceField(label=_("Sous-catégorie"), queryset=SubCategory.objects.none())
    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        help_text=_("Le numéro du ticket et les réponses du support vous parviendront à cette adresse."),
    )
    title = forms.CharField(label=_("Titre"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=MAX_DESCRIPTION_LENGTH, widget=forms.Textarea(attrs={"rows": 8})
    )
    answer = forms.IntegerField(
        label=_("Vérification"),
        min_value=0,
        max_value=100,
        error_messages={"required": _("Répondez à la question de vérification.")},
    )
    challenge = forms.CharField(widget=forms.HiddenInput)
    # The honeypot: hidden from people (and from assistive technologies).
    website = forms.CharField(
        label=_("Ne remplissez pas ce champ"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_categories()
        _require(self, ("category", "subcategory", "email", "title", "description"), required=True)
        self.fields["challenge"].error_messages["required"] = _(
            "La vérification a expiré : répondez à la nouvelle question."
        )
        self.challenge = (
            read_challenge(self.data.get(self.add_prefix("challenge"))) if self.is_bound else None
        )
        if self.challenge is None:
            if self.is_bound:
                # An expired or forged question: a new one is asked (clean says so).
                self.renew_challenge(drop_answer=False)
                self.challenge_renewed = True
            else:
                token = new_challenge()
                self.challenge = read_challenge(token)
                self.initial["challenge"] = token
        self._label_answer()

    def _label_answer(self):
        self.fields["answer"].label = _("Vérification : combien font %(a)d + %(b)d ?") % {
            "a": self.challenge["a"],
            "b": self.challenge["b"],
        }
        self.fields["answer"].help_text = _(
            "Écrivez le résultat en chiffres. Cette question écarte les robots."
        )
        self._bound_fields_cache.clear()

    def renew_challenge(self, *, drop_answer=True):
        """Ask a new question in place of the one sent (used, expired or forged), for
        the form shown again."""
        token = new_challenge()
        self.challenge = read_challenge(token)
        self.data = self.data.copy()
        self.data[self.add_prefix("challenge")] = token
        if drop_answer:
            self.data[self.add_prefix("answer")] = ""
        self._label_answer()

    challenge_renewed = False

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError(_("Votre demande n’a pas pu être envoyée."), code="honeypot")
        if self.challenge_renewed:
            self.add_error("answer", _("La vérification a expiré : répondez à la nouvelle question."))
            return cleaned
        if "answer" in cleaned and cleaned["answer"] != self.challenge["a"] + self.challenge["b"]:
            self.add_error("answer", _("Le résultat n’est pas le bon : vérifiez votre calcul."))
        elif time.time() - self.challenge["t"] < MIN_FILL_SECONDS:
            raise forms.ValidationError(
                _(
                    "Le formulaire a été envoyé trop vite : vérifiez vos informations puis "
                    "soumettez-le à nouveau."
                ),
                code="too_fast",
            )
        elif not self.errors and not consume_challenge(self.challenge):
            # Solved once already: the same question replayed, by another client or not.
            self.renew_challenge()
            self.add_error("answer", _("Cette vérification a déjà servi : répondez à la nouvelle question."))
        return cleaned

    def ticket_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("category", "subcategory", "title", "description")}
        data["contact_email"] = self.cleaned_data["email"]
        return data
