"""What can go wrong when asking the Sirene register, as typed errors.

Each error carries `message`, the French sentence the user reads, and `detail`, the
technical cause for logs and operators."""

from django.utils.translation import gettext_lazy as _


class SireneError(Exception):
    """Base of every Sirene error."""

    message = _("La base INSEE (Sirene) n’a pas pu répondre à la demande. Réessayez plus tard.")
    code = "error"

    def __init__(self, detail: str = "", *, siret: str = ""):
        self.detail = detail or self.__class__.__name__
        self.siret = siret
        super().__init__(self.detail)


class SireneUnknown(SireneError):
    """404: no establishment with this SIRET."""

    message = _(
        "Aucun établissement ne correspond à ce SIRET dans la base INSEE (Sirene). Vérifiez la saisie."
    )
    code = "unknown"


class SireneClosed(SireneError):
    """The current period of the establishment says "F" (fermé)."""

    message = _(
        "Cet établissement est fermé dans la base INSEE (Sirene) : seul le SIRET d’un établissement actif "
        "peut être utilisé."
    )
    code = "closed"


class SireneNonDiffusible(SireneError):
    """403, or an establishment whose data INSEE hides ("[ND]", diffusion status P)."""

    message = _(
        "Cet établissement est non diffusible : l’INSEE ne communique pas ses données (identité, adresse), "
        "le portail ne peut donc pas les reprendre. Contactez le support pour créer cette structure."
    )
    code = "non_diffusible"


class SireneInvalidRequest(SireneError):
    """400: the register refused the identifier or the query."""

    message = _("La base INSEE a refusé la demande : vérifiez le numéro SIRET saisi.")
    code = "invalid"


class SireneUnauthorized(SireneError):
    """401: the API key is missing or refused."""

    message = _(
        "Le portail n’est pas autorisé à interroger la base INSEE pour le moment (clé d’accès refusée). "
        "Réessayez plus tard ; si le problème persiste, contactez le support."
    )
    code = "unauthorized"


class SireneRateLimited(SireneError):
    """429 or the local limit of requests per minute: too many requests right now."""

    message = _(
        "La base INSEE reçoit trop de demandes en ce moment. Réessayez dans une minute : rien n’a été "
        "enregistré."
    )
    code = "rate_limited"

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        super().__init__(detail, **kwargs)


class SireneUnavailable(SireneError):
    """5xx, connection refused, an unreadable answer: the register cannot be reached."""

    message = _(
        "La base INSEE (Sirene) est indisponible pour le moment. Réessayez dans quelques minutes : rien "
        "n’a été enregistré."
    )
    code = "unavailable"


class SireneTimeout(SireneUnavailable):
    """The register did not answer in time."""

    message = _(
        "La base INSEE (Sirene) met trop de temps à répondre. Réessayez dans quelques minutes : rien n’a "
        "été enregistré."
    )
    code = "timeout"
