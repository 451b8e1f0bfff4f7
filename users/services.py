"""Attachment of users to structures: the transitions that keep the invariants."""

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus import audit
from chorus.access import ORGANISATION
from chorus.models import Habilitation, Level, Profile
from core import mail, ratelimit
from core.errors import Refused
from structures.models import Structure
from users import habilitations
from users.models import Invitation, Membership, User


class MembershipError(Refused):
    """A refused attachment or detachment; the message is French, for the form."""


class PrincipalManagerError(MembershipError):
    """SPEC invariant 3: the principal manager stays attached until they hand the role over."""

    def __init__(self, message=None):
        super().__init__(
            message or _("Le gestionnaire principal ne peut pas être détaché : transférez d’abord son rôle.")
        )


@transaction.atomic
def membership_attach(*, user, structure, service=None, actor=None, comment="") -> Membership:
    """Attach a user to a structure (or one of its services), validated at once.

    The first user attached to a structure without a principal manager becomes its
    principal manager, and a structure that waited for them ("activation en cours")
    becomes active. The structure row is locked so that two simultaneous first
    attachments cannot both take the role: the second one waits, then sees the first.
    """
    membership, changes = attach_unrecorded(user=user, structure=structure, service=service, comment=comment)
    audit.record(actor=actor or user, obj=membership, action="membership_attach", changes=changes)
    return membership


def attach_unrecorded(*, user, structure, service=None, comment="") -> tuple[Membership, dict]:
    """membership_attach without its audit record, for an action that attaches to
    several services at once or decides a request: it writes one record for the
    whole. Returns the membership and the changes to record."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if service is not None and service.structure_id != structure.pk:
        raise ValueError("The service does not belong to the structure.")
    membership = Membership.objects.create(
        user=user, structure=structure, service=service, status=Membership.Status.VALIDEE, comment=comment
    )
    changes = {"service": service.code if service else None}
    if structure.principal_manager_id is None:
        structure.principal_manager = user
        update_fields = ["principal_manager", "updated_at"]
        if structure.status == Structure.Status.EN_COURS_ACTIVATION:
            # A structure nobody was attached to waited for its principal manager
            # (constraint structure_active_has_principal_manager): it has one now.
            structure.status = Structure.Status.ACTIVE
            update_fields.append("status")
            changes["status"] = {"before": Structure.Status.EN_COURS_ACTIVATION, "after": structure.status}
        structure.save(update_fields=update_fields)
        changes["principal_manager"] = {"before": None, "after": user.email}
    return membership, changes


def _refuse_live_membership(user, structure, services):
    """Raise when the user already holds a live attachment at the level asked for."""
    live = Membership.objects.filter(user=user, structure=structure, status__in=Membership.LIVE_STATUSES)
    if services:
        live = live.filter(service__in=services).select_related("service").order_by("service__code")
    else:
        live = live.filter(service__isnull=True)
    membership = live.first()
    if membership is None:
        return
    if membership.status == Membership.Status.EN_COURS_DE_VALIDATION:
        raise MembershipError(
            _(
                "L’utilisateur a déjà une demande de rattachement en cours pour « %(target)s » : "
                "traitez-la dans Approbations."
            )
            % {"target": membership.service.name if membership.service else structure.display_name}
        )
    if membership.service is not None:
        raise MembershipError(
            _("L’utilisateur est déjà rattaché au service « %(service)s ».")
            % {"service": membership.service.name}
        )
    raise MembershipError(_("L’utilisateur est déjà rattaché à cette structure."))


@transaction.atomic
def membership_detach(*, membership, actor, comment) -> list[Membership]:
    """End an attachment: status DESACTIVEE, end date and comment kept as history.

    A structure-level detach also ends the user's service-level attachments on that
    structure. A detach from a service removes the habilitations held on that service.
    When nothing live remains on the structure, every habilitation of the user there is
    removed: the user has left the structure. Returns the memberships ended."""
    ended, changes = _detach_unrecorded(membership=membership, comment=comment)
    audit.record(actor=actor, obj=ended[0], action="membership_detach", changes=changes)
    return ended


def _detach_unrecorded(*, membership, comment) -> tuple[list[Membership], dict]:
    """membership_detach without its audit record: the caller writes one for the whole
    action. Returns the memberships ended and the changes to record."""
    comment = (comment or "").strip()
    if not comment:
        raise MembershipError(_("Le commentaire est obligatoire."))
    structure = Structure.objects.select_for_update().get(pk=membership.structure_id)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "service")
        .get(pk=membership.pk)
    )
    user = membership.user
    if membership.status not in Membership.LIVE_STATUSES:
        raise MembershipError(_("Ce rattachement est déjà terminé."))
    if structure.principal_manager_id == user.pk:
        raise PrincipalManagerError()

    to_end = [membership]
    if membership.service_id is None:
        to_end += list(
            Membership.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(
                user=user, structure=structure, service__isnull=False, status__in=Membership.LIVE_STATUSES
            )
            .order_by("service__code")
        )
    now = timezone.now()
    changes = {
        "status": {"before": membership.status, "after": Membership.Status.DESACTIVEE},
        "service": membership.service.code if membership.service else None,
        "comment": comment,
    }
    for ended in to_end:
        ended.status = Membership.Status.DESACTIVEE
        ended.ended_at = now
        ended.comment = comment
        ended.save(update_fields=["status", "ended_at", "comment", "updated_at"])
    if len(to_end) > 1:
        changes["services_ended"] = [ended.service.code for ended in to_end if ended.service_id]

    habilitations = Habilitation.objects.filter(user=user, structure=structure)
    still_attached = Membership.objects.filter(
        user=user, structure=structure, status__in=Membership.LIVE_STATUSES
    ).exists()
    if still_attached:
        habilitations = habilitations.filter(service__in=[m.service_id for m in to_end if m.service_id])
    removed = [
        str(habilitation)
        for habilitation in habilitations.select_related(
            "profile__application", "service", "structure", "user"
        )
    ]
    if removed:
        habilitations.delete()
        changes["habilitations_removed"] = sorted(removed)
    return to_end, changes


def _merge_detach_changes(changes, more):
    if not changes:
        return dict(more)
    merged = dict(changes)
    services = [code for code in (changes.get("service"), more.get("service")) if code]
    merged["services_ended"] = sorted(
        {*changes.get("services_ended", []), *more.get("services_ended", []), *services}
    )
    removed = {*changes.get("habilitations_removed", []), *more.get("habilitations_removed", [])}
    if removed:
        merged["habilitations_removed"] = sorted(removed)
    return merged


@transaction.atomic
def members_detach(*, actor, user, structure, services=(), comment) -> list[Membership]:
    """Detach a user from a whole structure (no services: every live attachment there
    ends) or from the given services only, then email them. All or nothing."""
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if structure.principal_manager_id == user.pk:
        raise PrincipalManagerError()
    live = Membership.objects.filter(user=user, structure=structure, status=Membership.Status.VALIDEE)
    services = list(services)
    if services:
        memberships = []
        for service in services:
            membership = live.filter(service=service).first()
            if membership is None:
                raise MembershipError(
                    _("L’utilisateur n’est pas rattaché au service « %(service)s ».")
                    % {"service": service.name}
                )
            memberships.append(membership)
    else:
        structure_level = live.filter(service__isnull=True).first()
        # Attached through services only: leaving the structure ends each of them.
        memberships = [structure_level] if structure_level else list(live.order_by("service__code"))
        if not memberships:
            raise MembershipError(_("L’utilisateur n’est pas rattaché à cette structure."))
    ended, changes = [], {}
    for membership in memberships:
        ended_here, detached = _detach_unrecorded(membership=membership, comment=comment)
        ended += ended_here
        changes = _merge_detach_changes(changes, detached)
    # One record for the action, whatever the number of attachments it ends.
    audit.record(actor=actor, obj=ended[0], action="membership_detach", changes=changes)
    mail.send_templated(
        template="detach",
        to=user.notification_email,
        context={
            "user": user,
            "structure": structure,
            "services": [m.service for m in ended if m.service_id] if services else [],
            "whole_structure": not services,
            "comment": comment.strip(),
        },
    )
    return ended


# Leaving a structure


@transaction.atomic
def membership_leave(*, membership_id, user) -> list[Membership]:
    """The user ends one of their own attachments (Mes rattachements): a structure-level
    one ends their services there too, as a detach does. The principal manager cannot
    leave before handing the role over (PrincipalManagerError). The structure's
    principal manager and Organisation administrators are told."""
    membership = (
        Membership.objects.filter(pk=membership_id, user=user, status=Membership.Status.VALIDEE)
        .select_related("structure", "service")
        .first()
    )
    if membership is None:
        raise MembershipError(_("Ce rattachement n’existe pas ou a déjà pris fin."))
    ended, changes = _detach_unrecorded(
        membership=membership, comment=_("Départ à l’initiative de l’utilisateur.")
    )
    structure = membership.structure
    audit.record(actor=user, obj=ended[0], action="membership_leave", changes=changes)
    mail.send_templated(
        template="membership_left",
        to=_administrators_emails(structure, exclude=user),
        context={
            "structure": structure,
            "user_email": user.email,
            "services": [m.service for m in ended if m.service_id] if membership.service_id else [],
            "whole_structure": membership.service_id is None,
        },
    )
    return ended


def _administrators_emails(structure, *, exclude) -> list[str]:
    """Who administers the structure: its principal manager and the attached holders
    of Organisation – modification."""
    attached = Membership.objects.filter(structure=structure, status=Membership.Status.VALIDEE)
    users = User.objects.filter(is_active=True).filter(
        Q(pk=structure.principal_manager_id)
        | Q(
            habilitations__structure=structure,
            habilitations__profile__application__code=ORGANISATION,
            habilitations__profile__level=Level.MODIFICATION,
            memberships__in=attached,
        )
    )
    return sorted({user.notification_email for user in users.exclude(pk=exclude.pk).distinct()})


# Invitations. Attaching an email is always an invitation: to create an account when the
# email has none, to accept or decline when it has one. Nobody becomes a member of a
# structure (sees their data shown there, is bound by its two-factor requirement, may be
# made its principal manager) without having said yes.

INVITATIONS_PER_INVITER = ratelimit.Limit("invitation_inviter", rate=30, period=60 * 60)
INVITATIONS_PER_ADDRESS = ratelimit.Limit("invitation_address", rate=5, period=24 * 60 * 60)


def _refuse_pending_invitation(email, user, structure):
    pending = _pending(Invitation.objects.filter(structure=structure))
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
    if profiles_by_structure is None:
        profiles_by_structure = {structure.pk: profiles for structure in structures}
    elif profiles:
        raise ValueError("profiles and profiles_by_structure are exclusive")
    profiles_by_structure = {
        structure.pk: sorted(profiles_by_structure.get(structure.pk, ()), key=lambda profile: profile.pk)
        for structure in structures
    }
    if services and (len(structures) != 1 or any(s.structure_id != structures[0].pk for s in services)):
        raise MembershipError(_("Un des services choisis n’appartient pas à la structure."))
    for structure in structures:
        refusal = habilitations.offer_refusal(
            actor=actor, structure=structure, profiles=profiles_by_structure[structure.pk]
        )
        if refusal:
            raise MembershipError(refusal)
    user = User.objects.filter(email__iexact=email).first()
    # Locked in id order before the first audit record (chorus.audit): a second manager
    # inviting the same address at the same moment waits, then sees this invitation.
    list(
        Structure.objects.select_for_update()
        .filter(pk__in=[structure.pk for structure in structures])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for structure in structures:
        try:
            if user is not None:
                # A member is listed to the manager already: saying so tells nothing new.
                _refuse_live_membership(user, structure, services)
            _refuse_pending_invitation(email, user, structure)
        except MembershipError as error:
            if len(structures) == 1:
                raise
            raise MembershipError(f"{structure.display_name} : {error.message}") from error
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
            action="invitation_send",
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
        mail.send_templated(template="invitation", to=email, context={**context, "signup_url": signup_url})
    else:
        mail.send_templated(
            template="invitation_member",
            to=user.notification_email,
            context={**context, "answer_url": answer_url},
        )
    return invitations


def _pending(invitations):
    return invitations.filter(
        accepted_at__isnull=True,
        declined_at__isnull=True,
        created_at__gt=timezone.now() - Invitation.VALIDITY,
    )


def pending_invitations(email):
    """The invitations to create an account at this address, still open."""
    return _pending(Invitation.objects.filter(email__iexact=email, user__isnull=True))


def invitations_pending_for(*, user):
    """The invitations a user may answer: made to their account, or to their login
    address before it had one."""
    return (
        _pending(Invitation.objects.filter(Q(user=user) | Q(user__isnull=True, email__iexact=user.email)))
        .select_related("structure", "invited_by")
        .prefetch_related(
            "services",
            Prefetch(
                "profiles",
                queryset=Profile.objects.select_related("application").order_by(
                    "application__domain__order", "application__order", "level"
                ),
            ),
        )
        .order_by("created_at", "pk")
    )


@transaction.atomic
def invitations_accept(*, user) -> list[Membership]:
    """Once the account of an invited email is activated, attach it as the managers
    asked: signing up through the invitation was the answer. Only invitations made to
    the address before it had an account: one made to an existing account waits for its
    owner's answer. An attachment the user already holds is skipped; the first user of
    a structure without principal manager takes the role (membership_attach)."""
    invitations = list(
        pending_invitations(user.email)
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
        audit.record(actor=user, obj=invitation, action="invitation_accept", changes=granted)
    return memberships


@transaction.atomic
def users_deactivate(*, user_ids, actor) -> list[User]:
    """Deactivate accounts from the back-office: they can no longer log in, and what they
    did stays in the history (deleting an account with a history is refused). Accounts
    already inactive are left as they are; each one deactivated is audited."""
    if actor.pk in set(user_ids):
        raise Refused(
            _("Vous ne pouvez pas désactiver votre propre compte : aucun compte n’a été désactivé.")
        )
    users = list(User.objects.select_for_update().filter(pk__in=user_ids, is_active=True).order_by("pk"))
    for user in users:
        user.is_active = False
        user.save(update_fields=["is_active"])
    # Recorded after every row is locked (chorus.audit: lock first, record last).
    for user in users:
        audit.record(
            actor=actor,
            obj=user,
            action="user_deactivate",
            changes={"is_active": {"before": True, "after": False}},
        )
    return users


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
        template="invitation_answered",
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
    audit.record(actor=user, obj=invitation, action="invitation_accept", changes=changes)
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
        profiles = [profile for profile in profiles if profile.application.code != ORGANISATION]
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
    audit.record(actor=user, obj=invitation, action="invitation_decline")
    _tell_inviter(invitation, user, accepted=False)
    return invitation
