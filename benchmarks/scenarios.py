"""The pages the load benchmark requests, and who requests them.

Shared by the benchmark (benchmarks/load.py, benchmarks/locustfile.py) and the query
budget test (tests/test_query_budgets.py). Ids come from the generated data's
reference structure (devtools/scale.py), whose shape is the same at every size.
"""

from dataclasses import dataclass

from devtools import scale

# Kept in the report's order: the two references first.
CONSTANT, SHELL = "constante", "page_vide"


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    persona: str | None  # a key of scale.REFERENCE_ACCOUNTS; None: anonymous
    path: str
    method: str = "GET"
    data: tuple = ()  # form fields of a POST
    reference: bool = False


def resolve() -> list[Page]:
    """The pages with the ids of the data in the current database."""
    from django.db.models import Q

    from structures.models import Structure
    from support.models import Ticket

    manager = scale.REFERENCE_ACCOUNTS["principal_manager"]
    structure = Structure.objects.get(principal_manager__email=manager)
    # Another structure's SIRET, typed in full: the search runs over every structure.
    other = (
        Structure.objects.exclude(pk=structure.pk)
        .order_by("-pk")
        .values_list("identifier", flat=True)
        .first()
    )
    other = other or structure.identifier
    ticket = (
        Ticket.objects.filter(structure=structure)
        .filter(~Q(status="BROUILLON"))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    name_part = structure.company_name.split()[1]  # a word of the raison sociale, e.g. "Martin"
    return [
        Page(CONSTANT, "Référence : réponse constante", None, "/banc-d-essai/constante/", reference=True),
        Page(
            SHELL,
            "Référence : page DSFR vide",
            "principal_manager",
            "/banc-d-essai/page-vide/",
            reference=True,
        ),
        Page("accueil", "Accueil", "principal_manager", "/"),
        Page(
            "recherche_siret",
            "Recherche de structure par SIRET (toutes les structures)",
            "consultation",
            f"/approbations/demander-un-rattachement/?identifiant={other}",
        ),
        Page(
            "recherche_raison_sociale",
            "Recherche de structure par raison sociale et début de SIRET",
            "principal_manager",
            f"/organisation/structure/?raison_sociale={name_part.lower()}&identifiant={structure.identifier[:6]}",
        ),
        Page("structure", "Fiche structure", "principal_manager", f"/organisation/structure/{structure.pk}/"),
        Page("services", "Liste des services", "principal_manager", "/organisation/structure/services/"),
        Page(
            "coordonnees_bancaires",
            "Liste des coordonnées bancaires",
            "principal_manager",
            "/organisation/structure/coordonnees-bancaires/",
        ),
        Page("utilisateurs", "Liste des utilisateurs", "delegate", "/organisation/utilisateurs/"),
        Page(
            "habilitations",
            "Gérer les habilitations",
            "delegate",
            "/organisation/utilisateurs/habilitations/",
        ),
        Page("approbations", "Approbations (boîte de réception)", "principal_manager", "/approbations/"),
        Page(
            "tickets",
            "Tickets émis, filtrés et triés",
            "principal_manager",
            "/support/tickets/?tab=structures&order=asc&q=facture",
        ),
        Page("ticket", "Page d’un ticket", "principal_manager", f"/support/tickets/{ticket}/"),
        Page(
            "tickets_recus",
            "Tickets reçus (agents), filtrés",
            "agent",
            "/support/agents/?status=EN_COURS&assignment=",
        ),
        Page("ticket_agent", "Page d’un ticket (agent)", "agent", f"/support/agents/tickets/{ticket}/"),
        Page("documentation", "Recherche dans la documentation", None, "/support/documentation/?q=facture"),
        Page(
            "assistant",
            "Question à l’assistant",
            "consultation",
            "/support/assistant/",
            method="POST",
            data=(("question", "Comment ajouter une coordonnée bancaire ?"),),
        ),
    ]


def count_queries(pages: list[Page]) -> dict[str, int]:
    """SQL queries of one request to each page, in-process (the second request: the
    first one warms per-process caches such as compiled templates)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {
        persona: get_user_model().objects.get(email=email)
        for persona, email in scale.REFERENCE_ACCOUNTS.items()
    }
    result = {}
    for page in pages:
        client = Client(HTTP_HOST="127.0.0.1")
        if page.persona:
            client.force_login(users[page.persona])
        request = client.post if page.method == "POST" else client.get
        request(page.path, dict(page.data))
        with CaptureQueriesContext(connection) as queries:
            response = request(page.path, dict(page.data))
        if response.status_code != 200:
            raise AssertionError(f"{page.path}: {response.status_code}")
        result[page.name] = len(queries)
    return result
