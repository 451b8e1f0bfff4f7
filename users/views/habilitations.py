"""Gérer les habilitations des utilisateurs, Gérer mes habilitations, Copier les habilitations.

Changes are staged on the page: the profiles to add and to remove travel between the
page's steps (Ajouter, the pencil, the cross) in a signed hidden field, and nothing is
written before *Soumettre*, which applies them all at once through
users.services.habilitations.habilitations_apply (or, for a simple user on their own profiles,
becomes one approval request). Leaving the page drops them: nothing was stored."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from approvals import services as approval_services
from approvals.selectors import pending_requests_of
from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Habilitation, Level
from core.pages import ORGANISATION, Crumb, page_context
from structures.models import Service
from users import selectors
from users.forms.habilitations import (
    CopyForm,
    HabilitationTargetForm,
    MyScopeForm,
    ProfilePickerForm,
    RequestCommentForm,
    Staging,
)
from users.services.habilitations import (
    ALREADY_HELD,
    HabilitationError,
    attached_users,
    grantable_profiles,
    habilitations_apply,
    habilitations_copy_apply,
    habilitations_copy_plan,
    is_principal_manager_profile,
    profile_label,
    scope_filter,
    scope_refusal,
)


@dataclass
class _Row:
    profile: object  # chorus.models.Profile
    label: str
    state: str  # "current", "add" (staged) or "remove" (staged)
    locked: bool = False  # the principal manager's Organisation – modification


class _HabilitationsPage:
    """One user's profiles on one scope (a structure, or one of its services), and the
    staging rules: what may be added, replaced, removed."""

    def __init__(self, *, structure, service, user):
        self.structure, self.service, self.user = structure, service, user
        self.profiles = {profile.pk: profile for profile in grantable_profiles()}
        self.held = set(
            Habilitation.objects.filter(scope_filter(structure, service), user=user).values_list(
                "profile_id", flat=True
            )
        )
        self.implicit_id = None
        if structure.principal_manager_id == user.pk:
            self.implicit_id = next(
                (pk for pk, profile in self.profiles.items() if is_principal_manager_profile(profile)), None
            )

    @property
    def key(self):
        return [self.structure.pk, self.service.pk if self.service else None, self.user.pk]

    def clean(self, staging):
        """Drop what no longer applies (a profile removed from the catalogue, or changed
        by someone else in the meantime)."""
        staging.add = [pk for pk in staging.add if pk in self.profiles and pk not in self.held]
        staging.remove = [pk for pk in staging.remove if pk in self.held and pk != self.implicit_id]
        return staging

    def effective(self, staging):
        ids = (self.held - set(staging.remove)) | set(staging.add)
        if self.implicit_id:
            ids.add(self.implicit_id)
        return ids

    def rows(self, staging):
        rows = []
        if self.implicit_id:
            rows.append(
                _Row(
                    self.profiles[self.implicit_id],
                    _("Organisation – modification (gestionnaire principal)"),
                    "current",
                    locked=True,
                )
            )
        for pk in self.held:
            if pk == self.implicit_id or pk not in self.profiles:
                continue
            state = "remove" if pk in staging.remove else "current"
            rows.append(_Row(self.profiles[pk], profile_label(self.profiles[pk]), state))
        rows.extend(_Row(self.profiles[pk], profile_label(self.profiles[pk]), "add") for pk in staging.add)
        order = list(self.profiles)
        return sorted(rows, key=lambda row: (not row.locked, order.index(row.profile.pk)))

    def changeable(self, staging, pk):
        """A profile the pencil or the cross applies to."""
        return pk in self.effective(staging) and pk != self.implicit_id

    def stage_add(self, staging, profile):
        """Stage a profile to add; a French error when it is already held."""
        if profile.pk in self.effective(staging):
            return _(ALREADY_HELD)
        if profile.pk in staging.remove:
            # Held, staged for removal: adding it back means keeping it.
            staging.remove.remove(profile.pk)
        else:
            staging.add.append(profile.pk)
        return ""

    def stage_remove(self, staging, pk):
        if pk in staging.add:
            staging.add.remove(pk)
        elif pk in self.held and pk != self.implicit_id and pk not in staging.remove:
            staging.remove.append(pk)

    def stage_replace(self, staging, old_pk, profile):
        if profile.pk in self.effective(staging):
            return _(ALREADY_HELD)
        self.stage_remove(staging, old_pk)
        return self.stage_add(staging, profile)

    def staged_profiles(self, staging):
        return [self.profiles[pk] for pk in staging.add], [self.profiles[pk] for pk in staging.remove]


def _parse_action(value):
    """("add"|"replace"|"remove"|"restore"|"stage"|"cancel"|"submit", profile id or None)."""
    name, _sep, argument = (value or "submit").partition(":")
    if name not in {"add", "replace", "remove", "restore", "stage", "cancel", "submit"}:
        raise SuspiciousOperation("Unknown action.")
    if name in {"replace", "remove", "restore"}:
        try:
            return name, int(argument)
        except ValueError:
            raise SuspiciousOperation("Malformed action.") from None
    return name, None


def _picker_mode(value, page, staging):
    """The open picker, posted back in a hidden field: "add", "replace:<id>" or ""."""
    name, _sep, argument = (value or "").partition(":")
    if name == "add":
        return "add"
    if name == "replace" and argument.isdigit() and page.changeable(staging, int(argument)):
        return value
    return ""


class _Outcome:
    """What the page does on Soumettre: apply, or ask the managers."""

    def __init__(self, *, request, page, administrator):
        self.request, self.page, self.administrator = request, page, administrator

    def submit(self, add, remove, comment_form):
        """Returns an error message, or "" when done."""
        page = self.page
        if self.administrator:
            try:
                habilitations_apply(
                    actor=self.request.user,
                    user=page.user,
                    structure=page.structure,
                    service=page.service,
                    add=add,
                    remove=remove,
                )
            except HabilitationError as error:
                return error.message
            return ""
        try:
            approval_services.request_profiles(
                requester=self.request.user,
                structure=page.structure,
                service=page.service,
                add=add,
                remove=remove,
                comment=comment_form.cleaned_data["comment"],
            )
        except approval_services.RequestError as error:
            return getattr(error, "message", str(error))
        return ""


@dataclass
class _Step:
    """What one request of the page works on: the staged changes, the open picker and
    its form, the comment of a request to the managers, the refusals to show."""

    staging: Staging
    picker: str = ""
    picker_form: ProfilePickerForm | None = None
    comment_form: RequestCommentForm | None = None
    errors: list = field(default_factory=list)


def _handle(request, *, page, administrator, own, template_context, template):
    """The page of one user's profiles: GET shows what is stored; each POST is one step
    (open the picker, stage, unstage) or Soumettre."""
    step = _Step(Staging(page.key), comment_form=None if administrator else RequestCommentForm())
    if request.method == "POST":
        response = _post(request, page, step, administrator)
        if response is not None:
            return response
    if step.picker_form is not None:
        step.picker_form.fields["application"].widget.attrs["autofocus"] = True
    replaced = None
    if step.picker.startswith("replace:"):
        replaced = profile_label(page.profiles[int(step.picker.partition(":")[2])])
    return render(
        request,
        template,
        {
            **template_context,
            "page": page,
            "own": own,
            "administrator": administrator,
            "rows": page.rows(step.staging),
            "staging": step.staging,
            "staged_token": step.staging.dumps(),
            "picker": step.picker,
            "picker_form": step.picker_form,
            "replaced": replaced,
            "comment_form": step.comment_form,
            "errors": step.errors,
        },
    )


def _post(request, page, step, administrator):
    """One POST of the page: a response when Soumettre is done, None to show the page."""
    try:
        step.staging = page.clean(Staging.loads(request.POST.get("staged", ""), page.key))
    except signing.SignatureExpired:
        step.errors.append(
            _("Cette page était ouverte depuis trop longtemps : recommencez vos modifications.")
        )
        return None
    except signing.BadSignature:
        raise SuspiciousOperation("Forged staged changes.") from None
    name, pk = _parse_action(request.POST.get("action"))
    if not administrator:
        step.comment_form = RequestCommentForm(request.POST)
    if name not in ("stage", "submit"):
        _edit(page, step, name, pk)
        return None
    _stage_from_picker(request, page, step, name)
    if name == "submit" and step.picker_form is None:
        return _submit(request, page, step.staging, administrator, step.comment_form, step.errors)
    return None


def _edit(page, step, name, pk):
    """Open the picker (to add, or to replace a profile), or stage a removal, or undo it."""
    staging = step.staging
    if name == "add":
        step.picker, step.picker_form = "add", ProfilePickerForm()
    elif name == "replace" and page.changeable(staging, pk):
        step.picker = f"replace:{pk}"
        step.picker_form = ProfilePickerForm(initial={"application": page.profiles[pk].application_id})
    elif name == "remove":
        page.stage_remove(staging, pk)
    elif name == "restore" and pk in staging.remove:
        staging.remove.remove(pk)


def _stage_from_picker(request, page, step, name):
    """Stage the profile chosen in the open picker. On Soumettre, an untouched picker is
    closed; a refused choice keeps it open, with the refusal."""
    step.picker = _picker_mode(request.POST.get("picker"), page, step.staging)
    if not step.picker:
        return
    step.picker_form = ProfilePickerForm(request.POST)
    if name != "stage" and not step.picker_form.is_filled():
        step.picker, step.picker_form = "", None
        return
    if not step.picker_form.is_valid():
        return
    error = _stage_pick(page, step.staging, step.picker, step.picker_form.profile)
    if error:
        step.picker_form.add_error(None, error)
    else:
        step.picker, step.picker_form = "", None


def _stage_pick(page, staging, picker, profile):
    if picker == "add":
        return page.stage_add(staging, profile)
    return page.stage_replace(staging, int(picker.partition(":")[2]), profile)


def _submit(request, page, staging, administrator, comment_form, errors):
    """Soumettre: a response when done, None (with `errors` filled) when refused."""
    if comment_form is not None and not comment_form.is_valid():
        return None
    if not staging:
        errors.append(_("Aucune modification à soumettre : ajoutez, remplacez ou retirez d’abord un profil."))
        return None
    add, remove = page.staged_profiles(staging)
    outcome = _Outcome(request=request, page=page, administrator=administrator)
    error = outcome.submit(add, remove, comment_form)
    if error:
        errors.append(error)
        return None
    if administrator:
        if page.user == request.user:
            messages.success(request, _("Vos habilitations ont été mises à jour."))
        else:
            messages.success(
                request,
                _("Les habilitations de %(user)s ont été mises à jour.")
                % {"user": page.user.get_full_name() or page.user.email},
            )
    else:
        messages.success(
            request,
            _(
                "Votre demande a été transmise aux gestionnaires de la structure : elle figure dans "
                "« Mes demandes en attente » jusqu’à leur décision."
            ),
        )
    # The same page, the same choice (the one page keeps it in the query string).
    return redirect(request.get_full_path())


# Gérer les habilitations des utilisateurs


def _chosen_target(request):
    """The chooser at the top of the one page (structure, service, user from the query
    string) and the target it names: (form, (structure, service, user) or None).

    Without a user, or when the structure was just chosen (its own button, name
    "choisir"), the form only shows the service and user lists: a user left from
    another structure's list is then forgotten, not refused."""
    params = request.GET
    structure_only = params.get("choisir") == "structure" or not params.get("user")
    if structure_only:
        initial = {"structure": params.get("structure")}
        if params.get("choisir") != "structure":
            initial["service"] = params.get("service")
        form = HabilitationTargetForm(request=request, initial=initial)
        structures = form.fields["structure"].queryset
        if not initial["structure"] and len(structures) == 1:
            form = HabilitationTargetForm(request=request, initial={"structure": structures[0]})
        return form, None
    # A user of another structure, or another structure, is an invalid choice: the page
    # says so and shows nothing of them.
    form = HabilitationTargetForm(params, request=request)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, (data["structure"], data["service"], data["user"])


def _manage_url(structure, service, user):
    """The one page, opened on this user's profiles: every state of it is a link."""
    query = {"structure": structure.pk, "service": service.pk if service else "", "user": user.pk}
    return f"{reverse('users:habilitations')}?{urlencode(query)}"


@access.access_required(ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def habilitations(request):
    """One page: the structure, optionally a service, and the user chosen at the top
    (a GET form, linkable); below, that user's profiles with Ajouter, the pencil, the
    cross and Soumettre (POSTed to the same address)."""
    # A POST without a valid target (a forged or stale address) changes nothing: the
    # page shows the choice again, refused as it would be on GET.
    form, target = _chosen_target(request)
    if target is None and request.GET.get("structure") and form.selected_structure() is not None:
        # The structure was just chosen: the next choice is the user's (the page reloaded).
        form.fields["user"].widget.attrs["autofocus"] = True
    title = _("Gérer les habilitations des utilisateurs")
    context = page_context(
        title,
        links=[ORGANISATION],
        form=form,
        structure_chosen=form.selected_structure() is not None,
        page=None,
    )
    if target is None:
        return render(request, "users/habilitations/select.html", context)
    structure, service, user = target
    page = _HabilitationsPage(structure=structure, service=service, user=user)
    return _handle(
        request,
        page=page,
        administrator=True,
        own=False,
        template_context=context,
        template="users/habilitations/select.html",
    )


@access.access_required(ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION)
@require_GET
def habilitations_user(request, structure_pk, user_pk, service_pk=None):
    """The former address of one user's page: the one page, with the same choice."""
    structure = access.get_object_or_404(
        request, structure_pk, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION
    )
    service = None if service_pk is None else get_object_or_404(Service, pk=service_pk, structure=structure)
    user = get_object_or_404(attached_users(structure), pk=user_pk)
    if scope_refusal(user=user, structure=structure, service=service):
        raise Http404
    return redirect(_manage_url(structure, service, user))


# Gérer mes habilitations


def _my_url(structure, service=None):
    """Gérer mes habilitations, opened on my profiles on this scope."""
    query = {"structure": structure.pk, "service": service.pk if service else ""}
    return f"{reverse('users:my_habilitations')}?{urlencode(query)}"


def _my_chosen_scope(request):
    """The chooser at the top of Gérer mes habilitations (structure, service from the
    query string) and the scope it names: (form, (structure, service) or None).

    A structure is enough: my profiles on all of it are shown. With one structure, it
    is chosen already. When the structure was just chosen (its own button, name
    "choisir"), a service left from another structure is forgotten, not refused; and a
    user attached only to services is then asked for one, without an error yet."""
    params = request.GET
    structure_id = params.get("structure")
    service_id = "" if params.get("choisir") == "structure" else params.get("service", "")
    if not structure_id:
        # my_structures() lists these: known already, no query.
        attached = access.get_access(request).attached_structure_ids()
        if len(attached) != 1:
            return MyScopeForm(request=request), None
        (structure_id,) = attached
    form = MyScopeForm({"structure": structure_id, "service": service_id}, request=request)
    if form.is_valid():
        return form, (form.cleaned_data["structure"], form.cleaned_data["service"])
    if "valider" not in params and not service_id and "structure" not in form.errors:
        # Attached to services only: the service is the next choice.
        form = MyScopeForm(request=request, initial={"structure": form.cleaned_data["structure"]})
        form.fields["service"].widget.attrs["autofocus"] = True
    return form, None


@access.access_required(ApplicationCode.GERER_MES_HABILITATIONS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def my_habilitations(request):
    """One page: one of my structures (optionally a service) chosen at the top (a GET
    form, linkable); below, my profiles on it with Ajouter, the pencil, the cross and
    Soumettre (POSTed to the same address): an administrator of the structure applies
    at once, a simple user's changes become one request to the managers. Before any
    choice, the overview of all my profiles; and always, my pending requests."""
    # A POST without a valid scope (a forged or stale address) changes nothing: the page
    # shows the choice again, refused as it would be on GET.
    form, scope = _my_chosen_scope(request)
    title = _("Gérer mes habilitations")
    context = page_context(
        title,
        links=[ORGANISATION],
        form=form,
        # What my_structures() filters on, known already: no query.
        has_structures=bool(access.get_access(request).attached_structure_ids()),
        structure_chosen=form.selected_structure() is not None,
        page=None,
    )
    if scope is None:
        pending, pending_more = pending_requests_of(user=request.user)
        context.update(overview=_my_overview(request), pending=pending, pending_more=pending_more)
        return render(request, "users/habilitations/mine.html", context)
    structure, service = scope
    # What this user asked on the structure they chose and is still waiting for, the
    # request just submitted included; all of them when the only structure was chosen
    # for them (an attachment asked elsewhere among them).
    chosen = structure if request.GET.get("structure") else None
    pending, pending_more = pending_requests_of(user=request.user, structure=chosen)
    context.update(pending=pending, pending_more=pending_more)
    administrator = access.can(
        request, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, structure=structure
    )
    page = _HabilitationsPage(structure=structure, service=service, user=request.user)
    return _handle(
        request,
        page=page,
        administrator=administrator,
        own=True,
        template_context=context,
        template="users/habilitations/mine.html",
    )


def _my_overview(request):
    """All my profiles on my structures, the principal manager's included: one query
    for the habilitations, one for the structures I manage."""
    user = request.user
    attached = access.get_access(request).attached_structure_ids()
    rows = [
        {
            "structure": structure,
            "service": None,
            "label": _("Organisation – modification (gestionnaire principal)"),
        }
        for structure in user.managed_structures.filter(pk__in=attached).order_by(
            "company_name", "identifier"
        )
    ]
    habilitations = (
        Habilitation.objects.filter(user=user, structure__in=attached)
        .select_related("structure", "service", "profile__application")
        .order_by("structure__company_name", "structure__identifier", "service__code", "pk")
    )
    for habilitation in habilitations:
        if habilitation.service_id is None and habilitation.structure.principal_manager_id == user.pk:
            if is_principal_manager_profile(habilitation.profile):
                continue
        rows.append(
            {
                "structure": habilitation.structure,
                "service": habilitation.service,
                "label": profile_label(habilitation.profile),
            }
        )
    rows.sort(key=lambda row: (row["structure"].company_name, row["structure"].identifier))
    return rows


@access.access_required(ApplicationCode.GERER_MES_HABILITATIONS, Level.MODIFICATION)
# Attached nowhere: the structure in the URL is none of theirs.
@access.expect(no_structure=404, agent=404)
@require_GET
def my_habilitations_manage(request, structure_pk, service_pk=None):
    """The former address of my profiles on one structure: the one page, with the same
    choice."""
    structure = get_object_or_404(selectors.my_structures(access=access.get_access(request)), pk=structure_pk)
    service = None
    if service_pk is not None:
        services = selectors.my_services(user=request.user, structure=structure)
        service = get_object_or_404(services, pk=service_pk)
    if scope_refusal(user=request.user, structure=structure, service=service):
        raise Http404
    return redirect(_my_url(structure, service))


# Copier les habilitations


@access.access_required(ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION)
def habilitations_copy(request):
    """Choose the structure and the two users (GET), see what will be added, Soumettre."""
    errors = []
    if request.method == "POST":
        form = CopyForm(request.POST, request=request)
        if form.is_valid():
            structure, source, target = (
                form.cleaned_data[name] for name in ("structure", "source", "target")
            )
            try:
                added = habilitations_copy_apply(
                    actor=request.user, structure=structure, source=source, target=target
                )
            except HabilitationError as error:
                errors.append(error.message)
            else:
                if added:
                    messages.success(
                        request,
                        _("%(count)s profil(s) copié(s) de %(source)s vers %(target)s.")
                        % {"count": added, "source": _name(source), "target": _name(target)},
                    )
                    return redirect(f"{reverse('users:habilitations_copy')}?structure={structure.pk}")
                errors.append(_("Aucun profil à copier : l’utilisateur possède déjà tous ces profils."))
    elif "valider" in request.GET:
        form = CopyForm(request.GET, request=request)
    else:
        initial = {"structure": request.GET.get("structure")}
        form = CopyForm(request=request, initial=initial)
        structures = form.fields["structure"].queryset
        if not initial["structure"] and len(structures) == 1:
            form = CopyForm(request=request, initial={"structure": structures[0]})
    lines, source_is_manager = None, False
    if form.is_bound and form.is_valid():
        structure = form.cleaned_data["structure"]
        lines = habilitations_copy_plan(
            structure=structure, source=form.cleaned_data["source"], target=form.cleaned_data["target"]
        )
        source_is_manager = structure.principal_manager_id == form.cleaned_data["source"].pk
    title = _("Copier les habilitations")
    return render(
        request,
        "users/habilitations/copy.html",
        page_context(
            title,
            links=[ORGANISATION, Crumb(_("Gérer les habilitations des utilisateurs"), "users:habilitations")],
            form=form,
            structure_chosen=form.selected_structure() is not None,
            lines=lines,
            to_add=sum(1 for line in lines or () if line.outcome == "add"),
            source_is_manager=source_is_manager,
            errors=errors,
        ),
    )


def _name(user):
    return user.get_full_name() or user.email
