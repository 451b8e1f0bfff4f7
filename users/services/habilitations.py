"""Habilitations: which profiles may be granted, who holds what, and the one transition
that changes a user's profiles on a structure (or one of its services).

The principal manager's Organisation – modification is implicit (Structure.principal_manager),
not a Habilitation row: it is shown with the profiles but can never be removed here."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chorus import access, audit
from chorus.actions import AuditAction
from chorus.codes import ApplicationCode
from chorus.models import Application, Audience, Habilitation, Level, Profile
from core.errors import Refused
from structures.models import Structure
from users.models import Membership, User

# Word for word the message users of Chorus Pro already know.
ALREADY_HELD = gettext_noop("L’utilisateur possède déjà le profil sélectionné")


class HabilitationError(Refused):
    """A change refused as a whole; `message` is French, for the user."""


def grantable_profiles():
    """Profiles that can be granted: those of applications opened by their own profile
    (an Organisation tool is opened by the Organisation profile, not by one of its own)."""
    return (
        Profile.objects.filter(
            application__access=Application.Access.PROFILE, application__governed_by__isnull=True
        )
        .select_related("application")
        .order_by("application__domain__order", "application__order", "level")
    )


def grantable_applications():
    return Application.objects.filter(access=Application.Access.PROFILE, governed_by__isnull=True).order_by(
        "domain__order", "order"
    )


# Granting profiles to others is what Gérer les habilitations des utilisateurs does.


def structure_audience(structure) -> str:
    """The public of the catalogue a structure belongs to (Application.audiences): a
    public body, a person, an association (INSEE legal categories 92xx) or a company."""
    if structure.is_public:
        return Audience.ENTITE_PUBLIQUE
    if structure.identifier_type == Structure.IdentifierType.PARTICULIER:
        return Audience.PARTICULIER
    if structure.legal_category.startswith("92"):
        return Audience.ASSOCIATION
    return Audience.ENTREPRISE


def offered_profiles(structure) -> list[tuple[Application, dict]]:
    """The applications whose profiles may be granted on this structure, in catalogue
    order, each with its profiles by level: [(application, {level: profile})]. An
    application meant for other publics (Facture reçue for a company) is left out.
    One query, whatever the size of the catalogue."""
    return offered_profiles_to_any([structure])


def is_offered(profile, structure) -> bool:
    """Whether the profile's application is meant for the structure's public."""
    audiences = profile.application.audience_list()
    return not audiences or structure_audience(structure) in audiences


def offered_profiles_to_any(structures) -> list[tuple[Application, dict]]:
    """offered_profiles() for several structures at once: the applications offered to
    at least one of them, in one query whatever their number."""
    wanted = {structure_audience(structure) for structure in structures}
    offered = {}
    if not wanted:
        return []
    for profile in grantable_profiles():
        application = profile.application
        audiences = application.audience_list()
        if audiences and not wanted.intersection(audiences):
            continue
        offered.setdefault(application.pk, (application, {}))[1][profile.level] = profile
    return list(offered.values())


def default_profiles(structure) -> list:
    """What a new member receives when nobody chose: consultation of every application
    offered to the structure (the default of the attach and approval forms)."""
    offered = offered_profiles(structure)
    return [levels[Level.CONSULTATION] for _app, levels in offered if Level.CONSULTATION in levels]


def offer_refusal(*, actor, structure, profiles) -> str:
    """Why `actor` may not grant these profiles on the structure to a new member, or ""
    when they may: the rule of Gérer les habilitations des utilisateurs, limited to the
    applications offered to the structure."""
    profiles = list(profiles)
    if not profiles:
        return ""
    if not access.can(actor, ApplicationCode.GERER_HABILITATIONS, Level.MODIFICATION, structure):
        return _("Vous ne pouvez pas accorder de profils sur la structure « %(structure)s ».") % {
            "structure": structure.display_name
        }
    offered = {profile.pk for _app, levels in offered_profiles(structure) for profile in levels.values()}
    for profile in profiles:
        if profile.pk not in offered:
            return _("Le profil « %(profile)s » n’est pas proposé pour la structure « %(structure)s ».") % {
                "profile": profile_label(profile),
                "structure": structure.display_name,
            }
    return ""


def is_principal_manager_profile(profile) -> bool:
    return (profile.application.code, profile.level) == access.PRINCIPAL_MANAGER_PROFILE


def principal_manager_profile():
    code, level = access.PRINCIPAL_MANAGER_PROFILE
    return Profile.objects.select_related("application").get(application__code=code, level=level)


def profile_label(profile) -> str:
    """ "Facture émise – consultation", in the user's language."""
    return f"{profile.application.label} – {Level(profile.level).label}"


def scope_filter(structure, service=None) -> Q:
    """Habilitations exactly on this scope: the whole structure, or one service."""
    if service is None:
        return Q(structure=structure, service__isnull=True)
    return Q(structure=structure, service=service)


def attached_users(structure):
    """Users attached to the structure (validated, wholly or through a service), and its
    principal manager: the only users whose habilitations on it can be managed."""
    # The ids in one UNION subquery: with joins and DISTINCT (or an OR), PostgreSQL read
    # every user (0.6 s, then 0.08 s at 300,000 users); this is a few index lookups.
    members = Membership.objects.filter(structure=structure, status=Membership.Status.VALIDEE)
    manager = Structure.objects.filter(pk=structure.pk, principal_manager__isnull=False)
    ids = members.order_by().values("user_id").union(manager.order_by().values("principal_manager_id"))
    return User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "email")


def scope_refusal(*, user, structure, service=None) -> str:
    """Why this user cannot hold profiles on this scope, or "" when they can.

    A profile on the whole structure counts only for a user attached to the whole
    structure; a profile on a service, for one attached to the structure or to that
    service (chorus.access ignores the others)."""
    if structure.principal_manager_id == user.pk:
        return ""
    memberships = Membership.objects.filter(user=user, structure=structure, status=Membership.Status.VALIDEE)
    if service is None:
        if memberships.filter(service__isnull=True).exists():
            return ""
        if memberships.exists():
            return _(
                "Cet utilisateur n’est rattaché qu’à certains services de la structure : "
                "choisissez l’un de ces services."
            )
        return _("L’utilisateur n’est pas rattaché à cette structure.")
    if memberships.filter(Q(service__isnull=True) | Q(service=service)).exists():
        return ""
    return _("L’utilisateur n’est pas rattaché à ce service.")


def scope_checker(*, user, structure):
    """A predicate on service ids (None: the whole structure) saying where this user can
    hold profiles, the rule of scope_refusal() computed in one query for many scopes."""
    attached = set(
        Membership.objects.filter(
            user=user, structure=structure, status=Membership.Status.VALIDEE
        ).values_list("service_id", flat=True)
    )
    whole = structure.principal_manager_id == user.pk or None in attached
    return lambda service_id: whole or service_id in attached


def held_profile_ids(*, user, structure, service=None) -> set:
    """Profiles the user holds on this scope, the principal manager's implicit one included."""
    ids = set(
        Habilitation.objects.filter(scope_filter(structure, service), user=user).values_list(
            "profile_id", flat=True
        )
    )
    if structure.principal_manager_id == user.pk:
        ids.add(principal_manager_profile().pk)
    return ids


def _labels(profiles):
    return sorted(str(profile) for profile in profiles)


def _refuse_scope(*, user, structure, service):
    if service is not None and service.structure_id != structure.pk:
        raise HabilitationError(_("Ce service n’appartient pas à la structure."))
    if not structure.is_active:
        raise HabilitationError(
            _(
                "La structure est désactivée : réactivez-la d’abord "
                "(Gérer une structure › Activer une structure)."
            )
        )
    refusal = scope_refusal(user=user, structure=structure, service=service)
    if refusal:
        raise HabilitationError(refusal)


def _removable_ids(remove, *, held, is_principal_manager) -> set:
    """The ids of the profiles to remove, or HabilitationError for one that may not be."""
    removed_ids = set()
    for profile in remove:
        if is_principal_manager and is_principal_manager_profile(profile):
            raise HabilitationError(
                _(
                    "Le profil Organisation – modification du gestionnaire principal ne peut pas lui "
                    "être retiré : transférez d’abord le rôle de gestionnaire principal."
                )
            )
        if profile.pk not in held or profile.pk in removed_ids:
            raise HabilitationError(
                _("L’utilisateur ne possède pas le profil « %(profile)s ».")
                % {"profile": profile_label(profile)}
            )
        removed_ids.add(profile.pk)
    return removed_ids


def _refuse_additions(add, *, held, is_principal_manager):
    """HabilitationError for a profile that cannot be granted, or is held already."""
    grantable = set(grantable_profiles().values_list("pk", flat=True))
    added_ids = set()
    for profile in add:
        if profile.pk not in grantable:
            raise HabilitationError(
                _("Le profil « %(profile)s » ne peut pas être attribué.")
                % {"profile": profile_label(profile)}
            )
        implicit = is_principal_manager and is_principal_manager_profile(profile)
        if profile.pk in held or profile.pk in added_ids or implicit:
            raise HabilitationError(_(ALREADY_HELD))
        added_ids.add(profile.pk)


@transaction.atomic
def habilitations_apply(*, actor, user, structure, service=None, add=(), remove=(), record=True) -> dict:
    """Remove then add profiles of `user` on the structure (or one service), all or
    nothing: any refusal raises HabilitationError before anything is written, and a
    failure while writing rolls every change back.

    Refused: removing Organisation – modification from the principal manager, adding a
    profile already held, removing one not held, a profile that cannot be granted, a
    user not attached to the scope, an inactive structure.

    Returns the changes; with record=False, writes no audit record (the caller, such as
    an approval, writes one for the whole action)."""
    add, remove = list(add), list(remove)
    # Locking the structure serialises this with a transfer of the principal manager
    # and with another change of the same user's profiles.
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    _refuse_scope(user=user, structure=structure, service=service)
    rows = {
        row.profile_id: row
        for row in Habilitation.objects.select_for_update(of=("self",))
        .filter(scope_filter(structure, service), user=user)
        .select_related("profile__application")
    }
    is_principal_manager = structure.principal_manager_id == user.pk
    removed_ids = _removable_ids(remove, held=set(rows), is_principal_manager=is_principal_manager)
    _refuse_additions(add, held=set(rows) - removed_ids, is_principal_manager=is_principal_manager)

    if not add and not remove:
        return {}
    before = [row.profile for row in rows.values()]
    Habilitation.objects.filter(pk__in=[rows[pk].pk for pk in removed_ids]).delete()
    for profile in add:
        Habilitation.objects.create(
            user=user, structure=structure, service=service, profile=profile, granted_by=actor
        )
    after = [row.profile for pk, row in rows.items() if pk not in removed_ids] + add
    changes = {
        "user": user.email,
        "service": service.code if service else None,
        "added": _labels(add),
        "removed": _labels(remove),
        "profiles": {"before": _labels(before), "after": _labels(after)},
    }
    if record:
        audit.record(
            actor=actor,
            obj=user,
            action=AuditAction.HABILITATIONS_CHANGE,
            structure=structure,
            changes=changes,
        )
    return changes


# Copier les habilitations


@dataclass
class CopyLine:
    profile: object
    label: str
    service: object
    outcome: str  # "add", "held" or "not_attached"


def habilitations_copy_plan(*, structure, source, target):
    """What copying `source`'s habilitations on the structure to `target` would do, line
    by line. The principal manager's role is not a habilitation: it is not copied."""
    source_rows = (
        Habilitation.objects.filter(user=source, structure=structure)
        .select_related("profile__application", "service")
        .order_by("service__code", "pk")
    )
    held = set(
        Habilitation.objects.filter(user=target, structure=structure).values_list("service_id", "profile_id")
    )
    target_is_manager = structure.principal_manager_id == target.pk
    can_hold = scope_checker(user=target, structure=structure)
    lines = []
    for row in source_rows:
        if not can_hold(row.service_id):
            outcome = "not_attached"
        elif (row.service_id, row.profile_id) in held or (
            target_is_manager and is_principal_manager_profile(row.profile)
        ):
            outcome = "held"
        else:
            outcome = "add"
        lines.append(CopyLine(row.profile, profile_label(row.profile), row.service, outcome))
    return lines


@transaction.atomic
def habilitations_copy_apply(*, actor, structure, source, target):
    """Copy, all or nothing; returns the number of profiles added."""
    by_scope = {}
    for line in habilitations_copy_plan(structure=structure, source=source, target=target):
        if line.outcome == "add":
            by_scope.setdefault(line.service, []).append(line.profile)
    for service, profiles in by_scope.items():
        habilitations_apply(actor=actor, user=target, structure=structure, service=service, add=profiles)
    return sum(len(profiles) for profiles in by_scope.values())
