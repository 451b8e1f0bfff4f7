"""The catalogue as users see it: domains, their applications, where each opens."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Application, Audience, Domain, Level

AUDIENCE_SESSION_KEY = "audience"


@dataclass
class Entry:
    application: Application
    url: str
    available: bool  # the user can open it
    level: int

    @property
    def section(self):
        return self.application.section_label

    @property
    def level_label(self):
        return Level(self.level).label if self.level else ""


def application_url(application) -> str:
    if application.url_name:
        try:
            return reverse(application.url_name)
        except NoReverseMatch:
            pass
    return reverse("application", args=[application.code])


def current_audience(request) -> str:
    return request.session.get(AUDIENCE_SESSION_KEY, Audience.ENTREPRISE)


def entries(request, *, domain=None, audience=None, listed_only=True) -> list[Entry]:
    """The applications of the catalogue, with whether this user can open each."""
    accessor = access.get_access(request)
    result = []
    for application in accessor.catalogue.values():
        if listed_only and not application.is_listed:
            continue
        if domain is not None and application.domain_id != domain.pk:
            continue
        audiences = application.audience_list()
        if audience and audiences and audience not in audiences:
            continue
        level = accessor.best_level(application.code)
        result.append(Entry(application, application_url(application), level > 0, level))
    result.sort(key=lambda e: (e.application.domain.order, e.application.order))
    return result


def domains_with_entries(request, *, audience=None) -> list[dict]:
    """[{domain, entries}] in catalogue order, for the home page and the menus."""
    by_domain: dict[int, dict] = {}
    for entry in entries(request, audience=audience):
        domain = entry.application.domain
        by_domain.setdefault(domain.pk, {"domain": domain, "entries": []})["entries"].append(entry)
    return list(by_domain.values())


def find_domain(request, code) -> Domain | None:
    for application in access.get_access(request).catalogue.values():
        if application.domain.code == code:
            return application.domain
    return None


# The two ways into the portal for a user attached to no structure.
FIRST_STEPS = (ApplicationCode.CREER_STRUCTURE, ApplicationCode.DEMANDER_RATTACHEMENT)


def attachment_guide(request) -> dict:
    """For a portal user attached to no structure: {application code: url} of the two
    first steps (Créer une structure, Demander un rattachement), which they can take;
    empty for everyone else. Every profiled application needs a structure first, so
    asking for a profile ("Gérer mes habilitations") cannot help them yet. Staff are
    not members of structures: nothing to guide them to."""
    user = request.user
    if not user.is_authenticated or user.is_staff or user.is_superuser:
        return {}
    accessor = access.get_access(request)
    if accessor.attached_structure_ids():
        return {}
    return {
        code: application_url(accessor.catalogue[code])
        for code in FIRST_STEPS
        if code in accessor.catalogue and accessor.best_level(code) > 0
    }
