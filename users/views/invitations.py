"""The user's answer to an invitation (from the home page or Mes rattachements), and
leaving a structure from Mes rattachements."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chorus import access
from core.pages import ACCOUNT, Crumb, page_context
from users.forms.invitations import ACCEPT, InvitationAnswerForm, LeaveForm
from users.models import Membership
from users.services import invitations, members


def _transfer_url():
    try:
        return reverse("structures:transfer")
    except NoReverseMatch:
        return reverse("domain", args=["organisation"])


def _first_error(form):
    return next(iter(form.errors.values()))[0]


def _own_membership(user, value) -> bool:
    """Whether the id names one of the user's attachments, live or ended."""
    return str(value).isdigit() and Membership.objects.filter(user=user, pk=int(value)).exists()


def _back(request):
    # Back to the page the answer was given from: the home page or Mes rattachements.
    if request.POST.get("next") == "home":
        return redirect("home")
    return redirect("users:my_memberships")


@access.authenticated
@require_POST
def invitation_answer(request):
    form = InvitationAnswerForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back(request)
    invitation = form.cleaned_data["invitation"]
    accept = form.cleaned_data["decision"] == ACCEPT
    try:
        if accept:
            invitations.invitation_accept(invitation_id=invitation.pk, user=request.user)
        else:
            invitations.invitation_decline(invitation_id=invitation.pk, user=request.user)
    except members.MembershipError as error:
        messages.error(request, error.message)
        return _back(request)
    name = invitation.structure.display_name
    if accept:
        messages.success(
            request, _("Vous êtes maintenant rattaché à la structure « %(name)s ».") % {"name": name}
        )
    else:
        messages.success(
            request,
            _("Vous avez refusé l’invitation de la structure « %(name)s » : vous n’y êtes pas rattaché.")
            % {"name": name},
        )
    return _back(request)


@access.authenticated
@require_http_methods(["GET", "POST"])
def membership_leave(request):
    """GET ?membership=…: the confirmation; POST: leave. The principal manager is sent
    to the transfer page: they hand the role over before they may leave."""
    data = request.POST if request.method == "POST" else request.GET
    form = LeaveForm(data, user=request.user)
    if not form.is_valid():
        if data.get("membership") and not _own_membership(request.user, data["membership"]):
            # Someone else's attachment: not found, as any object out of the user's reach.
            raise Http404
        messages.error(request, _first_error(form))
        return redirect("users:my_memberships")
    membership = form.cleaned_data["membership"]
    structure = membership.structure
    if structure.principal_manager_id == request.user.pk:
        messages.info(
            request,
            _(
                "Vous êtes le gestionnaire principal de la structure « %(name)s » : transférez d’abord ce "
                "rôle à un autre utilisateur rattaché, vous pourrez ensuite la quitter."
            )
            % {"name": structure.display_name},
        )
        return redirect(_transfer_url())
    if request.method == "POST":
        try:
            members.membership_leave(membership_id=membership.pk, user=request.user)
        except members.PrincipalManagerError:
            return redirect(_transfer_url())
        except members.MembershipError as error:
            messages.error(request, error.message)
            return redirect("users:my_memberships")
        if membership.service_id:
            done = _("Vous avez quitté le service « %(service)s » de la structure « %(name)s ».") % {
                "service": membership.service.name,
                "name": structure.display_name,
            }
        else:
            done = _("Vous avez quitté la structure « %(name)s ».") % {"name": structure.display_name}
        messages.success(request, done)
        return redirect("users:my_memberships")
    return render(
        request,
        "users/invitations/leave.html",
        page_context(
            _("Quitter une structure"),
            links=[
                ACCOUNT,
                Crumb(_("Mes rattachements"), "users:my_memberships"),
            ],
            form=form,
            membership=membership,
        ),
    )
