"""Rattacher un utilisateur (to one structure, or to several at once) and Détacher un
utilisateur. The structure is chosen first; the form's other choices (services, users)
are that structure's only."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chorus import access, catalogue
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import ORGANISATION, Crumb, page_context
from structures.fields import preselect_single_structure
from users.forms.members import (
    LEVEL_SERVICE,
    AttachForm,
    AttachManyForm,
    DetachForm,
    StructureStepForm,
)
from users.services import habilitations, invitations, members


def _page_url(name, structure):
    return f"{reverse(name)}?{urlencode({'structure': structure.pk})}"


def _structure_step(request, application_code):
    """The first step (GET ?structure=…): the structure chosen, if any. A user with a
    single structure has it chosen already."""
    step = StructureStepForm(request.GET or None, request=request, application_code=application_code)
    if step.is_bound:
        return step, (step.cleaned_data["structure"] if step.is_valid() else None)
    return step, preselect_single_structure(step)


def _signup_url(request, email):
    return f"{request.build_absolute_uri(reverse('users:signup'))}?{urlencode({'email': email})}"


def _names(services_):
    return ", ".join(service.name for service in services_)


# Rattacher un utilisateur


@access.access_required(ApplicationCode.RATTACHER_UTILISATEUR, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def attach(request):
    if request.method == "POST":
        form = AttachForm(request.POST, request=request)
        step = StructureStepForm(
            initial={"structure": form.structure},
            request=request,
            application_code=ApplicationCode.RATTACHER_UTILISATEUR,
        )
        if form.is_valid():
            done = _attach(request, form)
            if done:
                messages.success(request, done)
                return redirect(_page_url("users:attach", form.cleaned_data["structure"]))
    else:
        step, structure = _structure_step(request, ApplicationCode.RATTACHER_UTILISATEUR)
        form = AttachForm(initial={"structure": structure}, request=request) if structure else None
    return render(
        request,
        "users/members/attach.html",
        page_context(_("Rattacher un utilisateur"), links=[ORGANISATION], step=step, form=form),
    )


def _invite(request, form, structures, chosen=(), profiles=(), profiles_by_structure=None) -> bool:
    """Invite the email to the structures; False with the refusal added to the form.
    Known or not, the email gets an invitation and the manager the same answer."""
    email = form.cleaned_data["email"]
    try:
        invitations.invitation_send(
            actor=request.user,
            email=email,
            structures=structures,
            services=chosen,
            profiles=profiles,
            profiles_by_structure=profiles_by_structure,
            signup_url=_signup_url(request, email),
            answer_url=request.build_absolute_uri(reverse("users:my_memberships")),
        )
    except members.MembershipError as error:
        form.add_error(None, error.message)
        return False
    return True


def _attach(request, form) -> str:
    """The confirmation, or "" with the refusal added to the form."""
    data = form.cleaned_data
    email, structure = data["email"], data["structure"]
    chosen = list(data["services"]) if data["level"] == LEVEL_SERVICE else []
    profiles = form.chosen_profiles()
    if not _invite(request, form, [structure], chosen, profiles):
        return ""
    if chosen:
        done = _(
            "Une invitation a été envoyée à %(email)s pour les services « %(services)s » de la structure "
            "« %(structure)s ». Le rattachement se fera quand elle sera acceptée ; elle est valable 7 jours."
        ) % {"email": email, "services": _names(chosen), "structure": structure.display_name}
    else:
        done = _(
            "Une invitation a été envoyée à %(email)s pour la structure « %(structure)s ». Le rattachement "
            "se fera quand elle sera acceptée ; elle est valable 7 jours."
        ) % {"email": email, "structure": structure.display_name}
    if profiles:
        done += " " + _("Profils accordés à l’acceptation : %(profiles)s.") % {
            "profiles": ", ".join(habilitations.profile_label(profile) for profile in profiles)
        }
    else:
        done += " " + _(
            "Aucun profil n’est accordé : ajoutez-les dans Gérer les habilitations des utilisateurs."
        )
    return done


@access.access_required(ApplicationCode.RATTACHER_UTILISATEUR, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def attach_many(request):
    form = AttachManyForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        done = _attach_many(request, form)
        if done:
            messages.success(request, done)
            return redirect("users:attach_many")
    return render(
        request,
        "users/members/attach_many.html",
        page_context(
            _("Rattacher à plusieurs structures"),
            links=[ORGANISATION, Crumb(_("Rattacher un utilisateur"), "users:attach")],
            form=form,
        ),
    )


def _attach_many(request, form) -> str:
    email, structures = form.cleaned_data["email"], form.cleaned_data["structures"]
    by_structure = form.chosen_profiles_by_structure()
    if not _invite(request, form, structures, profiles_by_structure=by_structure):
        return ""
    done = _(
        "Une invitation a été envoyée à %(email)s pour les structures « %(structures)s ». Le rattachement "
        "se fera quand elle sera acceptée ; elle est valable 7 jours."
    ) % {"email": email, "structures": ", ".join(structure.display_name for structure in structures)}
    label = habilitations.profile_label
    granted = [
        _("%(structure)s : %(profiles)s")
        % {"structure": structure.display_name, "profiles": ", ".join(map(label, by_structure[structure.pk]))}
        for structure in structures
        if by_structure[structure.pk]
    ]
    if granted:
        granted = " ; ".join(granted)
        done += " " + _("Profils accordés à l’acceptation : %(profiles)s.") % {"profiles": granted}
    else:
        done += " " + _(
            "Aucun profil n’est accordé : ajoutez-les dans Gérer les habilitations des utilisateurs."
        )
    return done


# Détacher un utilisateur


@access.access_required(ApplicationCode.DETACHER_UTILISATEUR, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def detach(request):
    if request.method == "POST":
        form = DetachForm(request.POST, request=request)
        step = StructureStepForm(
            initial={"structure": form.structure},
            request=request,
            application_code=ApplicationCode.DETACHER_UTILISATEUR,
        )
        if form.is_valid():
            done = _detach(request, form)
            if done:
                messages.success(request, done)
                return redirect(_page_url("users:detach", form.cleaned_data["structure"]))
    else:
        step, structure = _structure_step(request, ApplicationCode.DETACHER_UTILISATEUR)
        form = None
        if structure is not None:
            form = DetachForm(initial={"structure": structure}, request=request)
            # From a user's page: that user is chosen already (if they are in the list).
            user_id = request.GET.get("user", "")
            if user_id.isdigit() and form.fields["user"].queryset.filter(pk=int(user_id)).exists():
                form.initial["user"] = int(user_id)
    transfer = access.get_access(request).catalogue.get(ApplicationCode.TRANSFERER_GP)
    return render(
        request,
        "users/members/detach.html",
        page_context(
            _("Détacher un utilisateur"),
            links=[ORGANISATION],
            step=step,
            form=form,
            transfer_url=catalogue.application_url(transfer) if transfer else "",
        ),
    )


def _detach(request, form) -> str:
    data = form.cleaned_data
    user, structure = data["user"], data["structure"]
    chosen = list(data["services"]) if data["level"] == LEVEL_SERVICE else []
    try:
        members.members_detach(
            actor=request.user, user=user, structure=structure, services=chosen, comment=data["comment"]
        )
    except members.PrincipalManagerError as error:
        form.principal_manager_refused = True
        form.add_error("user", error.message)
        return ""
    except members.MembershipError as error:
        form.add_error(None, error.message)
        return ""
    name = user.get_full_name() or user.email
    if chosen:
        return _("%(user)s est détaché des services « %(services)s » de la structure « %(structure)s ».") % {
            "user": name,
            "services": _names(chosen),
            "structure": structure.display_name,
        }
    return _("%(user)s est détaché de la structure « %(structure)s ».") % {
        "user": name,
        "structure": structure.display_name,
    }
