"""The one access policy.

Every portal view declares the application and level it needs (`access_required`);
`can()` answers "may this user do this (application, level) on this structure or
service?"; querysets go through `structures_for()` so that another structure's object
is a 404; templates read the `abilities` dict. A user's memberships, habilitations and
managed structures are loaded once per request (`request.access`).
"""

from dataclasses import dataclass, field
from functools import wraps

from django import shortcuts
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import CharField, F, IntegerField, Value
from django.db.models.functions import Cast
from django.utils.functional import SimpleLazyObject

from chorus.codes import ApplicationCode
from chorus.interfaces import membership_model, structure_model
from chorus.models import Application, Habilitation, Level
from core.errors import AccessRefused

# Every tool of the Organisation domain is opened by the Organisation profile; the
# principal manager always holds it at modification level on their structures.
PRINCIPAL_MANAGER_PROFILE = (ApplicationCode.ORGANISATION, Level.MODIFICATION)


@dataclass
class AccessContext:
    """What one user may reach, computed from four queries at most."""

    user: object
    catalogue: dict  # application code -> Application (with its domain)
    managed_structure_ids: frozenset = frozenset()
    structure_ids: frozenset = frozenset()  # validated structure-level memberships
    service_ids: frozenset = frozenset()  # validated service-level memberships
    service_structure: dict = field(default_factory=dict)  # service id -> structure id
    # (profile application code, structure id, service id or None) -> highest level held
    levels: dict = field(default_factory=dict)

    @property
    def is_authenticated(self):
        return self.user.is_authenticated

    def attached_structure_ids(self):
        """Structures the user belongs to, wholly or through a service."""
        return self.structure_ids | self.managed_structure_ids | frozenset(self.service_structure.values())

    def profile_code(self, application_code):
        try:
            return self.catalogue[application_code].profile_code
        except KeyError:
            raise LookupError(f"Unknown application {application_code!r}") from None

    def level_on(self, application_code, structure_id, service_id=None) -> int:
        """Highest level the user holds for an application on a structure, or on one
        of its services when service_id is given (a structure-wide profile covers
        every service)."""
        code = self.profile_code(application_code)
        if (
            code,
            Level.MODIFICATION,
        ) == PRINCIPAL_MANAGER_PROFILE and structure_id in self.managed_structure_ids:
            return Level.MODIFICATION
        level = self.levels.get((code, structure_id, None), 0)
        if service_id is not None:
            level = max(level, self.levels.get((code, structure_id, service_id), 0))
        return level

    def best_level(self, application_code) -> int:
        """Highest level held on any structure or service: what opens the application."""
        entry = self.catalogue.get(application_code)
        if entry is None:
            return 0
        if entry.access == Application.Access.PUBLIC:
            return Level.MODIFICATION
        if not self.user.is_authenticated:
            return 0
        if entry.access == Application.Access.PERSONAL:
            return Level.MODIFICATION if _is_portal_user(self.user) else 0
        if entry.access == Application.Access.STAFF:
            return Level.MODIFICATION if self.user.is_staff else 0
        best = 0
        if entry.profile_code == PRINCIPAL_MANAGER_PROFILE[0] and self.managed_structure_ids:
            best = Level.MODIFICATION
        for (code, _structure, _service), level in self.levels.items():
            if code == entry.profile_code:
                best = max(best, level)
        return best


def _is_portal_user(user):
    # Staff operators work from the admin and the back-office, not as members of a
    # structure: personal portal tools are for everybody else.
    return user.is_authenticated and user.is_active and not user.is_superuser


def load_catalogue():
    return {app.code: app for app in Application.objects.select_related("domain", "governed_by")}


def load_access(user) -> AccessContext:
    catalogue = load_catalogue()
    if not user.is_authenticated:
        return AccessContext(user=user, catalogue=catalogue)
    structure_ids, service_ids, service_structure = set(), set(), {}
    managed, habilitations = set(), []
    for kind, structure_id, service_id, code, level in _access_rows(user):
        if kind == "habilitation":
            habilitations.append((code, level, structure_id, service_id))
        elif kind == "managed":
            managed.add(structure_id)
        elif service_id is None:
            structure_ids.add(structure_id)
        else:
            service_ids.add(service_id)
            service_structure[service_id] = structure_id
    managed = frozenset(managed)

    levels = {}
    # A habilitation counts only while its holder is still attached where it applies.
    for code, level, structure_id, service_id in habilitations:
        attached = structure_id in structure_ids or structure_id in managed or service_id in service_ids
        if not attached:
            continue
        key = (code, structure_id, service_id)
        levels[key] = max(levels.get(key, 0), level)
    return AccessContext(
        user=user,
        catalogue=catalogue,
        managed_structure_ids=managed,
        structure_ids=frozenset(structure_ids),
        service_ids=frozenset(service_ids),
        service_structure=service_structure,
        levels=levels,
    )


def _access_rows(user):
    """The user's validated memberships, managed structures and habilitations in one
    query (every page pays for it): rows of (kind, structure id, service id, application
    code, level)."""
    Structure, Membership = structure_model(), membership_model()

    def columns(kind, structure, service=None, code=None, level=None):
        return {
            "row_kind": Value(kind, output_field=CharField()),
            "row_structure": F(structure),
            "row_service": F(service) if service else Cast(Value(None), IntegerField()),
            "row_code": F(code) if code else Cast(Value(None), CharField()),
            "row_level": F(level) if level else Cast(Value(None), IntegerField()),
        }

    def rows(queryset, **spec):
        # No ORDER BY: the models' default orderings would join the structures to sort.
        return queryset.order_by().annotate(**columns(**spec)).values_list(*columns(**spec))

    habilitations = rows(
        Habilitation.objects.filter(user=user),
        kind="habilitation",
        structure="structure_id",
        service="service_id",
        code="profile__application__code",
        level="profile__level",
    )
    memberships = rows(
        Membership.objects.filter(user=user, status=Membership.Status.VALIDEE),
        kind="membership",
        structure="structure_id",
        service="service_id",
    )
    managed = rows(Structure.objects.filter(principal_manager=user), kind="managed", structure="pk")
    return habilitations.union(memberships, managed, all=True)


def get_access(request_or_user) -> AccessContext:
    """The access context of a request (loaded once), or a fresh one for a user; an
    access context already loaded (what selectors are given) is itself."""
    if isinstance(request_or_user, AccessContext):
        return request_or_user
    access = getattr(request_or_user, "access", None)
    if access is not None:
        return access
    return load_access(request_or_user)


def can(who, application_code, level=Level.CONSULTATION, structure=None, service=None) -> bool:
    """The policy: may this user use this application at this level on this structure
    (or this service of it)? Without a structure: on at least one of theirs.

    `who` is a request (whose access context is reused) or a user."""
    access = get_access(who)
    if structure is None and service is None:
        return access.best_level(application_code) >= level
    if not access.is_authenticated:
        return False
    entry = access.catalogue.get(application_code)
    if entry is None:
        return False
    if entry.access != Application.Access.PROFILE:
        return access.best_level(application_code) >= level
    structure_id = service.structure_id if service is not None else _pk(structure)
    service_id = _pk(service)
    if service is not None and structure is not None and service.structure_id != _pk(structure):
        return False
    return access.level_on(application_code, structure_id, service_id) >= level


def _pk(obj):
    return obj if obj is None or isinstance(obj, int) else obj.pk


def hidden_agent_applications(who) -> frozenset:
    """Codes of the agents' applications this user cannot open. Their guides, shortcuts
    and search results are never suggested to them: a structure's user has nothing to
    do in the support back-office."""
    access = get_access(who)
    return frozenset(
        code
        for code, application in access.catalogue.items()
        if application.access == Application.Access.STAFF and not access.best_level(code)
    )


def structure_ids_for(who, application_code, level=Level.CONSULTATION) -> set:
    """Ids of the structures on which the user holds this application at this level."""
    access = get_access(who)
    if not access.is_authenticated:
        return set()
    return {
        structure_id
        for structure_id in access.attached_structure_ids()
        if access.level_on(application_code, structure_id) >= level
    }


def structures_for(who, application_code, level=Level.CONSULTATION):
    """The structures a user may act on with this application: fetch every object
    through this queryset, so another structure's object is a 404."""
    return structure_model().objects.filter(pk__in=structure_ids_for(who, application_code, level))


def get_object_or_404(who, pk, application_code, level=Level.CONSULTATION, *, within=None):
    """One object fetched through the policy: a structure the user may act on with this
    application at this level or, with `within` (a selector taking `structures=` and
    returning their objects), one of their objects. Not allowed is a 404 like unknown,
    so that its existence is not confirmed."""
    structures = structures_for(who, application_code, level)
    return shortcuts.get_object_or_404(structures if within is None else within(structures=structures), pk=pk)


def abilities(request) -> dict:
    """For templates: {application code: {"view": bool, "change": bool}} for the user."""
    access = get_access(request)
    result = {}
    for code in access.catalogue:
        level = access.best_level(code)
        result[code] = {"view": level >= Level.CONSULTATION, "change": level >= Level.MODIFICATION}
    return result


def access_required(application_code, level=Level.CONSULTATION):
    """The view guard: the user must hold the application at this level somewhere.
    Views acting on one structure then fetch it through `structures_for()`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request, application_code, level):
                raise AccessRefused(application_code, level)
            return view(request, *args, **kwargs)

        wrapped.access_rule = (application_code, level)
        return wrapped

    return decorator


def public(view):
    """Marks a page that anonymous visitors may open (the rule for every other view
    is that it declares `access_required`)."""
    view = login_not_required(view)
    view.access_rule = "public"
    return view


def authenticated(view):
    """Marks a page any logged-in user may open: their own account and requests."""
    view.access_rule = "authenticated"
    return view


class AccessMiddleware:
    """Attaches the lazily loaded access context to each request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: load_access(request.user))
        return self.get_response(request)


# --- Expected outcomes (checked by tests/security/test_authorization_matrix.py) ---
#
# What each kind of user should get from a view, declared apart from the code that
# decides, so that a guard that drifts from the policy is caught. Personas:
#   anonymous; no_structure (attached nowhere); consultation (Organisation –
#   consultation on structure A); modification (attached to A with a non-Organisation
#   profile at modification level); delegate (Organisation – modification on A);
#   principal_manager (of A); other_structure (principal manager of B, using the ids of
#   A's objects); agent (support staff); operator (superuser).
# Outcomes: ALLOWED (the view serves the persona: 200, a redirect elsewhere than the
# login page, or 400 for a request it does not take), LOGIN (redirect to the login
# page), 403, 404. A 405 (a method the view does not take) passes whatever the persona:
# it is answered before anything is looked up.

ALLOWED = "allowed"
LOGIN = "login"

PERSONAS = (
    "anonymous",
    "no_structure",
    "consultation",
    "modification",
    "delegate",
    "principal_manager",
    "other_structure",
    "agent",
    "operator",
)

_EVERYBODY = dict.fromkeys(PERSONAS, ALLOWED)
_LOGGED_IN = {**_EVERYBODY, "anonymous": LOGIN}
# Organisation applications: opened by the Organisation profile, on the user's structures.
_ORGANISATION_READ = {
    **_LOGGED_IN,
    "no_structure": 403,
    "modification": 403,
    "agent": 403,
    "operator": 403,
}
_ORGANISATION_WRITE = {**_ORGANISATION_READ, "consultation": 403}
_PERSONAL = {**_LOGGED_IN, "operator": 403}  # operators work from the admin
_STAFF = {**dict.fromkeys(PERSONAS, 403), "anonymous": LOGIN, "agent": ALLOWED, "operator": ALLOWED}

# Access rule → expected outcome per persona. For profile and personal applications the
# key is the kind of application (Application.Access) and the level the view requires.
EXPECTED = {
    "public": _EVERYBODY,
    "authenticated": _LOGGED_IN,
    ("profile", Level.CONSULTATION): _ORGANISATION_READ,
    ("profile", Level.MODIFICATION): _ORGANISATION_WRITE,
    ("personal", Level.CONSULTATION): _PERSONAL,
    ("personal", Level.MODIFICATION): _PERSONAL,
    ("staff", Level.CONSULTATION): _STAFF,
    ("staff", Level.MODIFICATION): _STAFF,
}
# A URL naming one object (an id): the other structure's user, whom the guard lets in,
# gets a 404, never the object.
OBJECT_URL_DEFAULTS = {"other_structure": 404}
# Links carrying a token (activation, email change, reactivation): public, and with an
# invalid token nobody learns anything.
INVALID_TOKEN = dict.fromkeys(PERSONAS, 404)
# An approval request is seen by its structure's approvers only (principal manager and
# Organisation administrators); the other personas may open the inbox, not the request.
NOT_AN_APPROVER = {"no_structure": 404, "consultation": 404, "modification": 404, "agent": 404}


def expect(**outcomes):
    """Declares where a view's outcome differs from EXPECTED for its access rule, e.g.
    `@access.expect(no_structure=404)`: the guard lets the persona in, but the object
    in the URL is none of theirs."""
    unknown = set(outcomes) - set(PERSONAS)
    if unknown:
        raise ValueError(f"Unknown personas: {sorted(unknown)}")

    def decorator(view):
        view.access_expect = {**getattr(view, "access_expect", {}), **outcomes}
        return view

    return decorator


def expected_outcomes(view, application_access=None, has_object=False) -> dict:
    """persona → expected outcome of a view (see EXPECTED)."""
    rule = view.access_rule
    if isinstance(rule, tuple):
        rule = (application_access, int(rule[1]))
    outcomes = dict(EXPECTED[rule])
    if has_object:
        outcomes.update({p: o for p, o in OBJECT_URL_DEFAULTS.items() if outcomes[p] == ALLOWED})
    outcomes.update(getattr(view, "access_expect", {}))
    return outcomes
