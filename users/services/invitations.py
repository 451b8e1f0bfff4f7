"""Invitations. Attaching an email is always an invitation: to create an account when the
email has none, to accept or decline when it has one. Nobody becomes a member of a
structure (sees their data shown there, is bound by its two-factor requirement, may be
made its principal manager) without having said yes."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus import audit
from chorus.actions import AuditAction
from chorus.codes import ApplicationCode
from core import mail, ratelimit
from structures.models import Structure
from users.models import Invitation, Membership, User
from users.selectors import open_invitations, signup_invitations
from users.services import habilitations
from users.services.members import (
    MembershipError,
    attach_unrecorded,
    membership_attach,
    refuse_live_membership,
)

INVITATIONS_PER_INVITER = ratelimit.Limit("invitation_inviter", rate=30, period=60 * 60)
INVITATIONS_PER_ADDRESS = ratelimit.Limit("invitation_address", rate=5, period=24 * 60 * 60)


def _refuse_pending_invitation(email, user, structure):
    pending = open_invitations(Invitation.objects.filter(structure=structure))
    same = Q(email__iexact=email) | Q(user=user) if user is not None else Q(email__iexact=email)
    if pending.filter(same).exists():
        raise MembershipError(
            _("Une invitation envoyée à %(email)s pour « %(structure)s » attend déjà sa réponse.")
            % {"email": email, "structure": structure.display_name}
        )


def _count_invitation(actor, email):
    """Count one invitation against the inviter's and the address's limits, or refuse."""
    if ratelimit.exhausted(INVITATIONS_PER_INVITER, actor.pk):
        raise MembershipError(
            _(
                "Vous avez envoyé trop d’invitations en une heure : réessayez plus tard. "
                "Aucune invitation n’a été envoyée."
            )
        )
    if ratelimit.exhausted(INVITATIONS_PER_ADDRESS, email) or not ratelimit.hit_all(
        (INVITATIONS_PER_INVITER, actor.pk), (INVITATIONS_PER_ADDRESS, email)
    ):
        raise MembershipError(
            _(
                "Trop d’invitations ont été envoyées à cette adresse aujourd’hui : réessayez demain. "
                "Aucune invitation n’a été envoyée."
            )
        )


def _profiles_by_structure(structures, profiles, profiles_by_structure) -> dict:
    """{structure id: the profiles to grant there, in id order}."""
    if profiles_by_structure is None:
        profiles_by_structure = {structure.pk: profiles for structure in structures}
    elif profiles:
        raise ValueError("profiles and profiles_by_structure are exclusive")
    return {
        structure.pk: sorted(profiles_by_structure.get(structure.pk, ()), key=lambda profile: profile.pk)
        for structure in structures
    }


def _refuse_offer(actor, structures, services, profiles_by_structure):
    """MembershipError for services of another structure, or profiles the inviter may
    not grant there."""
    if services and (len(structures) != 1 or any(s.structure_id != structures[0].pk for s in services)):
        raise MembershipError(_("Un des services choisis n’appartient pas à la structure."))
    for structure in structures:
        refusal = habilitations.offer_refusal(
            actor=actor, structure=structure, profiles=profiles_by_structure[structure.pk]
        )
        if refusal:
            raise MembershipError(refusal)


def _refuse_invited_already(email, user, structures, services):
    """MembershipError when the address is a member already, or has an invitation
    waiting, on one of the structures (named when there are several)."""
    for structure in structures:
        try:
            if user is not None:
                # A member is listed to the manager already: saying so tells nothing new.
                refuse_live_membership(user, structure, services)
            _refuse_pending_invitation(email, user, structure)
        except MembershipError as error:
            if len(structures) == 1:
                raise
            raise MembershipError(f"{structure.display_name} : {error.message}") from error


@transaction.atomic
def invitation_send(
    *, actor, email, structures, services=(), profiles=(), profiles_by_structure=None, signup_url, answer_url
) -> list[Invitation]:
    """Invite an email to the given structures (at structure level, or to the given
    services of the only structure), in one email. An existing account is attached
    only once its owner accepts; an email without account is invited to create one.
    The inviter gets the same answer either way: the form does not tell whether an
    account exists.

    `profiles` are granted with the attachment, on each structure (or each service),
    when the invitation is accepted: only those the inviter may grant there.
    `profiles_by_structure` ({structure id: profiles}) gives each structure its own
    (Rattacher à plusieurs structures: each receives only the applications it offers)."""
    structures = sorted(structures, key=lambda structure: structure.pk)
    services = list(services)
    profiles_by_structure = _profiles_by_structure(structures, profiles, profiles_by_structure)
    _refuse_offer(actor, structures, services, profiles_by_structure)
    user = User.objects.filter(email__iexact=email).first()
    # Locked in id order before the first audit record (chorus.audit): a second manager
    # inviting the same address at the same moment waits, then sees this invitation.
    list(
        Structure.objects.select_for_update()
        .filter(pk__in=[structure.pk for structure in structures])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _refuse_invited_already(email, user, structures, services)
    _count_invitation(actor, email)
    invitations = []
    for structure in structures:
        invitation = Invitation.objects.create(email=email, user=user, structure=structure, invited_by=actor)
        if services:
            invitation.services.set(services)
        profiles = profiles_by_structure[structure.pk]
        if profiles:
            invitation.profiles.set(profiles)
        audit.record(
            actor=actor,
            obj=invitation,
            action=AuditAction.INVITATION_SEND,
            changes={
                "email": email,
                "services": sorted(s.code for s in services),
                "profiles": sorted(habilitations.profile_label(profile) for profile in profiles),
            },
        )
        invitations.append(invitation)
    # The inviter is named by their login address and structure, never by the names they
    # typed themselves: a name could carry a link.
    context = {
        "inviter_email": actor.email,
        "structures": structures,
        "services": services,
        "validity_days": Invitation.VALIDITY.days,
    }
    if user is None:
        mail.send_templated(
            template="users/email/invitation", to=email, context={**context, "signup_url": signup_url}
        )
    else:
        mail.send_templated(
            template="users/email/invitation_member",
            to=user.notification_email,
            context={**context, "answer_url": answer_url},
        )
    return invitations


@transaction.atomic
def invitations_accept(*, user) -> list[Membership]:
    """Once the account of an invited email is activated, attach it as the managers
    asked: signing up through the invitation was the answer. Only invitations made to
    the address before it had an account: one made to an existing account waits for its
    owner's answer. An attachment the user already holds is skipped; the first user of
    a structure without principal manager takes the role (membership_attach)."""
    invitations = list(
        signup_invitations(email=user.email)
        .select_for_update(of=("self",))
        .select_related("structure", "invited_by")
        .order_by("created_at", "pk")
    )
    # Every structure locked, in id order, before the first audit record: that record
    # holds the trail's lock to the commit (chorus.audit), and a structure locked after
    # it could deadlock with a writer holding the structure and waiting for the trail.
    list(
        Structure.objects.select_for_update()
        .filter(pk__in={invitation.structure_id for invitation in invitations})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    memberships = []
    now = timezone.now()
    for invitation in invitations:
        services = list(invitation.services.order_by("code")) or [None]
        for service in services:
            if _holds(user, invitation.structure, service):
                continue
            memberships.append(
                membership_attach(
                    user=user,
                    structure=invitation.structure,
                    service=service,
                    actor=invitation.invited_by,
                    comment=_("Invitation acceptée"),
                )
            )
        granted = _grant_invited_profiles(invitation, user, [s for s in services if s is not None])
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        audit.record(actor=user, obj=invitation, action=AuditAction.INVITATION_ACCEPT, changes=granted)
    return memberships


def _holds(user, structure, service) -> bool:
    live = Membership.objects.filter(user=user, structure=structure, status__in=Membership.LIVE_STATUSES)
    live = live.filter(service=service) if service else live.filter(service__isnull=True)
    return live.exists()


def _answerable(invitation_id, user) -> Invitation:
    """The user's own invitation, locked, still open; refused otherwise."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("structure", "invited_by")
        .filter(Q(user=user) | Q(user__isnull=True, email__iexact=user.email), pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise MembershipError(_("Cette invitation n’existe pas ou ne vous est pas adressée."))
    if invitation.accepted_at is not None or invitation.declined_at is not None:
        raise MembershipError(_("Vous avez déjà répondu à cette invitation."))
    if not invitation.is_pending:
        raise MembershipError(
            _(
                "Cette invitation a expiré : demandez au gestionnaire de la structure de vous "
                "inviter à nouveau."
            )
        )
    return invitation


def _tell_inviter(invitation, user, *, accepted):
    if invitation.invited_by is None:
        return
    mail.send_templated(
        template="users/email/invitation_answered",
        to=invitation.invited_by.notification_email,
        context={"structure": invitation.structure, "user_email": user.email, "accepted": accepted},
    )


@transaction.atomic
def invitation_accept(*, invitation_id, user) -> list[Membership]:
    """The invited user says yes: they are attached as the inviter chose (structure, or
    its services), the first member of a structure without principal manager taking the
    role, and the inviter is told. One audit record for the whole."""
    invitation = _answerable(invitation_id, user)
    structure = Structure.objects.select_for_update().get(pk=invitation.structure_id)
    if structure.status == Structure.Status.INACTIVE:
        raise MembershipError(
            _("La structure « %(structure)s » est désactivée : elle n’accueille plus de nouveaux membres.")
            % {"structure": structure.display_name}
        )
    services = list(invitation.services.order_by("code"))
    memberships, changes = [], {}
    for service in services or [None]:
        if _holds(user, structure, service):
            continue
        membership, attached = attach_unrecorded(
            user=user, structure=structure, service=service, comment=_("Invitation acceptée")
        )
        memberships.append(membership)
        changes.update(attached)
    changes["service"] = [service.code for service in services] if services else None
    changes["invited_by"] = invitation.invited_by.email if invitation.invited_by else None
    changes.update(_grant_invited_profiles(invitation, user, services))
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(actor=user, obj=invitation, action=AuditAction.INVITATION_ACCEPT, changes=changes)
    _tell_inviter(invitation, user, accepted=True)
    return memberships


def _grant_invited_profiles(invitation, user, services) -> dict:
    """Grant the profiles the inviter chose, on the structure or on each invited
    service, through the one habilitation transition (no record of its own: the
    acceptance's record carries them). Profiles the user holds already there are
    skipped, and so is Organisation for a new principal manager, who holds it by
    role. An inviter who may no longer grant profiles there grants none: the
    attachment stands, and the profiles are to be asked for (Gérer mes habilitations).
    Returns the changes to record."""
    profiles = list(invitation.profiles.select_related("application").order_by("pk"))
    if not profiles:
        return {}
    structure = Structure.objects.get(pk=invitation.structure_id)
    inviter = invitation.invited_by
    labels = sorted(habilitations.profile_label(profile) for profile in profiles)
    if inviter is None or habilitations.offer_refusal(actor=inviter, structure=structure, profiles=profiles):
        return {"profiles_not_granted": labels}
    if structure.principal_manager_id == user.pk:
        profiles = [
            profile for profile in profiles if profile.application.code != ApplicationCode.ORGANISATION
        ]
    granted = []
    for service in services or [None]:
        held = habilitations.held_profile_ids(user=user, structure=structure, service=service)
        add = [profile for profile in profiles if profile.pk not in held]
        if add:
            try:
                habilitations.habilitations_apply(
                    actor=inviter, user=user, structure=structure, service=service, add=add, record=False
                )
            except habilitations.HabilitationError as error:
                raise MembershipError(error.message) from error
            granted += [habilitations.profile_label(profile) for profile in add]
    return {"added": sorted(set(granted))} if granted else {}


@transaction.atomic
def invitation_decline(*, invitation_id, user) -> Invitation:
    """The invited user says no: nothing is attached, the inviter is told."""
    invitation = _answerable(invitation_id, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    audit.record(actor=user, obj=invitation, action=AuditAction.INVITATION_DECLINE)
    _tell_inviter(invitation, user, accepted=False)
    return invitation
