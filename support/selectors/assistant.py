"""The virtual assistant: finds the documentation passages that answer a French question,
and recognises the few requests it can act on.

Retrieval only: every answer is a quotation of a published documentation page, with a
link to it; nothing is generated. Pages are cut into sections (support.markdown) and
ranked with BM25 over French-normalised terms: lower case, accents folded, a short
stopword list, light suffix stripping and a few synonyms (IBAN / RIB / coordonnée
bancaire, GP / gestionnaire principal…). When the best match is weak, the assistant says
it is not sure and offers a ticket or a chat with an agent.
"""

import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from chorus.catalogue import application_url
from support import markdown
from support.models import DocPage

MAX_QUESTION_LENGTH = 1000
MAX_PASSAGES = 3
EXCERPT_LINES = 2
EXCERPT_LINE_CHARS = 300

# BM25 parameters (the usual values) and the weight of a page's title and summary,
# which describe every section of the page.
K1, B = 1.2, 0.75
TITLE_WEIGHT = 1.0
# Below these, the assistant says it is not sure: the best section must match enough of
# the question's words, and score enough.
MIN_COVERAGE = 0.5
MIN_SCORE = 5.5

# Frequent French words that say nothing about the subject of a question.
STOPWORDS = set(
    """
    a ai aie aient ais ait as au aucun aussi autre aux avais avait avec avez avoir avons
    bien bon c ca ce ceci cela celle celles celui ces cet cette chez ci comme comment
    d dans de des deja doit dois donc dont du elle elles en encore est et etait etc ete
    etre eu fait faire faut fois il ils j je jusqu l la le les leur leurs lui m ma mais
    me meme mes moi mon n ne ni nos notre nous on ont ou oui par pas peu peut peuvent
    peux plus pour pourquoi puis puisque qu quand que quel quelle quelles quels qui quoi
    s sa sans se ses si sinon soit son sont suis sur t ta te tes toi ton tous tout toute
    toutes tu un une unes uns v vais veux voudrais vos votre vous y svp merci bonjour
    aide aider besoin possible savoir souhaite voulais dire sais falloir estce
    """.split()
)

# Multi-word expressions first (matched on folded text), then single words. Each adds
# a concept term (or several) next to the words themselves, so that "IBAN" finds the pages that
# speak of "coordonnée bancaire", and the reverse.
PHRASES = [
    (
        r"coordonnees? bancaires?|releves? d identite bancaire|comptes? bancaires?|informations? bancaires?"
        r"|donnees? bancaires?",
        "zbanque",
    ),
    (r"gestionnaires? principa(?:l|ux)|gestionnaire princ", "zgp"),
    (r"mots? de passe", "zmotdepasse"),
    (r"pieces? jointes?", "zpiecejointe"),
    (r"adresses? (?:e mail|email|mail|electroniques?)|boite mail|messagerie", "zcourriel"),
    (r"creer un compte|creation de compte|ouvrir un compte|s inscrire|m inscrire", "zinscription"),
    (r"base insee|sirene", "zinsee"),
    (r"mise a jour|mettre a jour", "zmiseajour"),
    (r"lien d activation", "zactivation"),
    (
        r"quitte l entreprise|quitter l entreprise|quitte la structure|quitter la structure|pars en retraite"
        r"|part a la retraite|depart",
        "zdepart",
    ),
    (
        r"nouveau siret|changement de siret|change de siret|changer de siret|siret (?:a )?change\w*"
        r"|siret (?:a ete |est )?modifie\w*|siret (?:est )?different|autre siret",
        "zdupliquer",
    ),
    # What a user cannot see or open is a profile to add: "mon collègue ne voit pas
    # les factures" is answered by the habilitations.
    (
        r"ne (?:voi[st]|voient) (?:pas|plus|rien)"
        r"|n (?:a|ai|ont|avons) (?:pas|plus) (?:acces|le droit|les droits)"
        r"|ne (?:peu[tx]|peuvent|pouvons) (?:pas|plus) (?:voir|ouvrir|acceder)|n apparai\w* (?:pas|plus)"
        r"|pas d acces|acces refuse|acces non ouvert",
        ("habilit", "ajout"),
    ),
    # What a user cannot change on a structure is greyed out: it comes from INSEE.
    (
        r"(?:ne|n) (?:peu[tx]|peuvent|pouvons|arrive|arrivons) (?:pas|plus)"
        r" (?:a )?(?:modifier|changer|corriger)"
        r"|impossible de (?:modifier|changer|corriger)|ne se modifient pas|(?<!carte )grise\w*",
        "zgrise",
    ),
    # A structure's postal address is INSEE's.
    (
        r"adresses? (?:postales?|du siege|de (?:la |ma |notre |cette |l )?"
        r"(?:structure|entreprise|societe|etablissement))",
        "zinsee",
    ),
    (r"agent du support|conseiller|parler a quelqu un|un humain|une personne", "zagent"),
    (r"ne travaille plus|n y travaille plus|est parti|est partie|a quitte|quitte l entreprise", "zdepart"),
    (
        r"(?:retirer|enlever|supprimer|sortir) (?:un |une |le |la |l )?"
        r"(?:utilisateur|salarie|collaborateur|collegue|employe|personne)"
        r"|(?:retirer|enlever|sortir) \w+ de (?:la|ma|notre) structure",
        "detach",
    ),
]
WORDS = {
    "iban": "zbanque",
    "rib": "zbanque",
    "bic": "zbanque",
    "swift": "zbanque",
    "gp": "zgp",
    "mdp": "zmotdepasse",
    "pj": "zpiecejointe",
    "document": "zpiecejointe",
    "documents": "zpiecejointe",
    "fichier": "zpiecejointe",
    "fichiers": "zpiecejointe",
    "courriel": "zcourriel",
    "mail": "zcourriel",
    "email": "zcourriel",
    "mails": "zcourriel",
    "inscription": "zinscription",
    "inscrire": "zinscription",
    "insee": "zinsee",
    "bloque": "verrouill",
    "bloquee": "verrouill",
    "verrouille": "verrouill",
    "verrouillee": "verrouill",
    "verrouillage": "verrouill",
    "oublie": "reinitialis",
    "perdu": "reinitialis",
    "reinitialiser": "reinitialis",
    "reinitialisation": "reinitialis",
    "connexion": "connect",
    "connecter": "connect",
    "login": "connect",
    "identifiant": "connect",
    "droit": "habilit",
    "droits": "habilit",
    "acces": "habilit",
    "permission": "habilit",
    "permissions": "habilit",
    "profil": "habilit",
    "profils": "habilit",
    "societe": "structure",
    "entreprise": "structure",
    "etablissement": "structure",
    "salarie": "utilis",
    "salaries": "utilis",
    "collaborateur": "utilis",
    "collaborateurs": "utilis",
    "collegue": "utilis",
    "collegues": "utilis",
    "employe": "utilis",
    "employes": "utilis",
    "membre": "utilis",
    "membres": "utilis",
    "effacer": "supprim",
    "enlever": "supprim",
    "suppression": "supprim",
    "dupliquer": "zdupliquer",
    "duplication": "zdupliquer",
    "duplique": "zdupliquer",
    "transfert": "transfer",
    "excel": "export",
    "csv": "export",
    "xlsx": "export",
    "tableur": "export",
    "tchat": "zagent",
    "chat": "zagent",
    "discuter": "zagent",
    "agent": "zagent",
    "agents": "zagent",
    "claudia": "assistant",
    "chatbot": "assistant",
    "robot": "assistant",
    "reclamation": "ticket",
    "demandes": "approb",
    "approuver": "approb",
    "approbation": "approb",
    "approbations": "approb",
    "valider": "approb",
    "refuser": "approb",
    "deconnecter": "connect",
    "carte": "zpiecejointe",
    "horaire": "heur",
    "horaires": "heur",
    "reactiver": "activ",
    "reactivation": "activ",
    "reactive": "activ",
}

# Words the suffix rules would confuse with another: "pays" (country) is not "payer".
UNSTEMMED = {"pays", "fois", "mois", "bis"}

SUFFIXES = [
    # (suffix, replacement), longest first; applied once, leaving a stem of 3 letters or more.
    ("issements", "is"),
    ("issement", "is"),
    ("ications", "i"),
    ("ication", "i"),
    ("atrices", ""),
    ("atrice", ""),
    ("ateurs", ""),
    ("ateur", ""),
    ("ations", ""),
    ("ation", ""),
    ("ements", ""),
    ("ement", ""),
    ("eront", ""),
    ("erons", ""),
    ("erait", ""),
    ("erez", ""),
    ("era", ""),
    ("antes", ""),
    ("ante", ""),
    ("ants", ""),
    ("ant", ""),
    ("ees", ""),
    ("ee", ""),
    ("es", ""),
    ("er", ""),
    ("ez", ""),
    ("e", ""),
    ("ifs", "iv"),
    ("if", "iv"),
    ("ives", "iv"),
    ("ive", "iv"),
    ("aux", "al"),
    ("s", ""),
    ("x", ""),
]


def fold(text: str) -> str:
    """Lower case, accents removed, every sign but letters and digits turned into a space."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def stem(word: str) -> str:
    """A light French stemmer: enough to join plurals, feminines and the usual verb and
    noun forms (créer / création / créée, rattacher / rattachement)."""
    if len(word) < 4 or word.isdigit() or word in UNSTEMMED:
        return word
    for suffix, replacement in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def term_groups(text: str) -> list[set]:
    """One group per significant word of a query: the word's stem and its synonym. A
    page matches the word when it holds any term of the group."""
    groups = []
    for word in fold(text).split():
        if word in STOPWORDS or len(word) < 2:
            continue
        group = {stem(word)}
        if word in WORDS:
            group.add(WORDS[word])
        if group not in groups:
            groups.append(group)
    return groups


def terms(text: str) -> list[str]:
    """The search terms of a text: folded, stopwords out, stemmed, synonyms added."""
    folded = fold(text)
    concepts = []
    for pattern, concept in PHRASES:
        names = concept if isinstance(concept, tuple) else (concept,)
        for _match in re.finditer(rf"\b(?:{pattern})\b", folded):
            concepts.extend(names)
    result = []
    for word in folded.split():
        if word in STOPWORDS or len(word) < 2:
            continue
        result.append(stem(word))
        if word in WORDS:
            result.append(WORDS[word])
    return result + concepts


# The index


@dataclass
class IndexedSection:
    page_id: int
    slug: str
    page_title: str
    heading: str
    anchor: str
    lines: list
    counts: Counter
    length: int


@dataclass
class Index:
    sections: list = field(default_factory=list)
    df: Counter = field(default_factory=Counter)  # term -> number of sections holding it
    title_counts: dict = field(default_factory=dict)  # page id -> Counter of title terms
    title_df: Counter = field(default_factory=Counter)
    page_counts: dict = field(default_factory=dict)  # page id -> Counter of body terms
    page_application: dict = field(default_factory=dict)  # page id -> code of the documented application
    average_length: float = 1.0

    @property
    def size(self):
        return len(self.sections)

    def idf(self, term, df=None, n=None):
        df = (self.df if df is None else df)[term]
        n = self.size if n is None else n
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def build_index(pages) -> Index:
    index = Index()
    for page in pages:
        title_terms = Counter(terms(page.title) * 2 + terms(page.summary))
        index.title_counts[page.pk] = title_terms
        index.page_application[page.pk] = page.application.code if page.application_id else ""
        index.title_df.update(title_terms.keys())
        index.page_counts[page.pk] = Counter()
        for section in markdown.sections(page.body):
            section_terms = Counter(terms(section.heading) * 2 + terms(section.text))
            if not section_terms:
                continue
            index.sections.append(
                IndexedSection(
                    page_id=page.pk,
                    slug=page.slug,
                    page_title=page.title,
                    heading=section.heading,
                    anchor=section.anchor,
                    lines=section.lines,
                    counts=section_terms,
                    length=sum(section_terms.values()),
                )
            )
            index.df.update(section_terms.keys())
            index.page_counts[page.pk].update(section_terms)
    if index.sections:
        index.average_length = sum(s.length for s in index.sections) / len(index.sections)
    return index


_cache_lock = threading.Lock()
_cache: dict = {"key": None, "index": None}


def current_index() -> Index:
    """The index of the published pages, rebuilt when a page is added, changed or
    removed (one aggregate query tells)."""
    published = DocPage.objects.filter(is_published=True)
    state = published.aggregate(n=Count("id"), last=Max("updated_at"), ids=Sum("id"))
    key = (state["n"], state["last"], state["ids"])
    with _cache_lock:
        if _cache["key"] != key:
            pages = (
                published.select_related("application")
                .only("id", "slug", "title", "summary", "body", "application__code")
                .order_by("order", "pk")
            )
            _cache["index"], _cache["key"] = build_index(pages), key
        return _cache["index"]


# Search of the documentation page (the simple, accent-insensitive match)


def match_pages(query: str, index: Index | None = None, hidden=frozenset()) -> dict[int, int]:
    """{page id: score} of the pages holding every word of the query (or its synonym);
    a word in the title or summary counts three times more than in the body. Pages
    documenting a `hidden` application are left out."""
    index = current_index() if index is None else index
    groups = term_groups(query)
    if not groups:
        return {}
    scores = {}
    for page_id, body in index.page_counts.items():
        if index.page_application.get(page_id) in hidden:
            continue
        title = index.title_counts.get(page_id, Counter())
        score = 0
        for group in groups:
            hits = sum(3 * title.get(term, 0) + body.get(term, 0) for term in group)
            if not hits:
                break
            score += hits
        else:
            scores[page_id] = score
    return scores


# Ranking


@dataclass
class Passage:
    slug: str
    page_title: str
    heading: str
    anchor: str
    excerpt: list
    score: float
    coverage: float

    @property
    def url(self):
        url = reverse("support:doc_page", args=[self.slug])
        return f"{url}#{self.anchor}" if self.anchor else url


def _bm25(index, query_terms, section):
    score = 0.0
    norm = K1 * (1 - B + B * section.length / index.average_length)
    for term in query_terms:
        tf = section.counts.get(term, 0)
        if tf:
            score += index.idf(term) * tf * (K1 + 1) / (tf + norm)
    return score


def _title_score(index, query_terms, page_id):
    counts = index.title_counts.get(page_id, Counter())
    pages = len(index.title_counts) or 1
    score = 0.0
    for term in query_terms:
        tf = counts.get(term, 0)
        if tf:
            score += index.idf(term, index.title_df, pages) * tf * (K1 + 1) / (tf + K1)
    return score


def rank(
    question: str, index: Index | None = None, limit: int = MAX_PASSAGES, hidden=frozenset()
) -> list[Passage]:
    """The best passages for a question, one per page, best first; never from a page
    documenting a `hidden` application (the agents' back-office, for a user)."""
    index = current_index() if index is None else index
    query_terms = list(dict.fromkeys(terms(question)))
    known = [t for t in query_terms if index.df.get(t) or index.title_df.get(t)]
    if not known:
        return []
    best: dict[int, tuple] = {}
    for section in index.sections:
        if index.page_application.get(section.page_id) in hidden:
            continue
        score = _bm25(index, known, section) + TITLE_WEIGHT * _title_score(index, known, section.page_id)
        if score > 0 and (section.page_id not in best or score > best[section.page_id][0]):
            best[section.page_id] = (score, section)
    ranked = sorted(best.values(), key=lambda item: (-item[0], item[1].slug))[:limit]
    passages = []
    for score, section in ranked:
        title_terms = index.title_counts.get(section.page_id, Counter())
        matched = [t for t in query_terms if t in section.counts or t in title_terms]
        passages.append(
            Passage(
                slug=section.slug,
                page_title=section.page_title,
                heading=section.heading,
                anchor=section.anchor,
                excerpt=_excerpt(index, known, section),
                score=round(score, 2),
                coverage=len(matched) / len(query_terms),
            )
        )
    return passages


def _excerpt(index, query_terms, section) -> list[str]:
    """The lines of the section that match the question best, in reading order."""
    scored = []
    for position, line in enumerate(section.lines):
        line_terms = set(terms(line))
        score = sum(index.idf(t) for t in query_terms if t in line_terms)
        scored.append((score, position, line))
    chosen = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[:EXCERPT_LINES]
    if not chosen:
        chosen = scored[:1]
    return [_shorten(line) for _score, _position, line in sorted(chosen, key=lambda s: s[1])]


def _shorten(line: str) -> str:
    line = " ".join(line.split())
    if len(line) <= EXCERPT_LINE_CHARS:
        return line
    cut = line[:EXCERPT_LINE_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


def is_confident(passages) -> bool:
    if not passages:
        return False
    top = passages[0]
    return top.coverage >= MIN_COVERAGE and top.score >= MIN_SCORE


# Intents: what the assistant can do, offered as buttons


@dataclass
class Action:
    code: str
    label: str
    url: str


ACTIVATION_RE = re.compile(r"\b(?:activation|activer|active|activ\w*)\b")
ACTIVATION_CONTEXT_RE = re.compile(
    r"\b(?:lien|liens|mail|email|courriel|recu|recois|renvoy\w*|expir\w*|nouveau|perdu|compte)\b"
)
TICKET_RE = re.compile(
    r"\b(?:(?:ouvr\w*|cre\w*|depos\w*|envoy\w*|fai\w*|soumet\w*|redig\w*|nouveau)\b.*\btickets?"
    r"|reclamation|signaler un (?:probleme|bug|incident)|contacter le support|ecrire au support)\b"
)
AGENT_RE = re.compile(
    r"\b(?:agents?|conseiller\w*|humain|operateur|tchat|chat|discuter"
    r"|parler (?:a|avec) (?:quelqu un|une personne|un agent|le support|quelqu))\b"
)
LOCKED_RE = re.compile(r"\b(?:bloque\w*|verrouill\w*|debloqu\w*|deverrouill\w*)\b")
LOCKED_CONTEXT_RE = re.compile(r"\b(?:compte|connexion|connecter|connecte|identifiant|login|mot de passe)\b")
WHERE_RE = re.compile(
    r"\b(?:ou (?:est|sont|se trouve\w*|trouver|puis je|peut on|je peux|acceder|aller)|trouver|acceder"
    r"|ouvrir l application|lien vers|quel menu|dans quel menu|ou se situe\w*)\b"
)


def intents(question: str, *, applications=(), authenticated=True) -> list[Action]:
    """The requests the assistant recognises and can act on, as buttons."""
    folded = fold(question)
    actions = []
    if (
        ACTIVATION_RE.search(folded)
        and ACTIVATION_CONTEXT_RE.search(folded)
        and not re.search(r"\b(?:desactiv|reactiv)\w*", folded)
    ):
        actions.append(
            _action("activation", _("Recevoir un nouveau lien d’activation"), "users:activation_resend")
        )
    if not authenticated and LOCKED_RE.search(folded) and LOCKED_CONTEXT_RE.search(folded):
        # Only a visitor who cannot log in has a locked account to unlock.
        actions.append(_action("unlock", _("Débloquer mon compte"), "users:unlock_request"))
    if TICKET_RE.search(folded):
        actions.append(ticket_action(authenticated))
    if AGENT_RE.search(folded):
        actions.append(_action("chat", _("Échanger avec un agent"), "support:chat_start"))
    if WHERE_RE.search(folded):
        actions.extend(where_is(question, applications))
    return [action for action in actions if action is not None]


def _action(code, label, url_name):
    try:
        return Action(code, label, reverse(url_name))
    except NoReverseMatch:
        return None


def ticket_action(authenticated):
    # Visitors who are not logged in use the logged-out form.
    if not authenticated:
        action = _action("ticket", _("Ouvrir un ticket"), "support:public_ticket")
        if action is not None:
            return action
    return _action("ticket", _("Ouvrir un ticket"), "support:ticket_create")


def fallback_actions(authenticated=True) -> list[Action]:
    """What the assistant offers when it is not sure of its answer."""
    actions = [
        ticket_action(authenticated),
        _action("chat", _("Échanger avec un agent"), "support:chat_start"),
    ]
    return [action for action in actions if action is not None]


def where_is(question: str, applications) -> list[Action]:
    """The applications a "where is…" question names (all their significant words, or
    two thirds of a long name)."""
    query = set(terms(question))
    found = []
    for application in applications:
        if not application.is_listed:
            continue
        name_terms = set(terms(application.name)) or set(terms(application.label))
        if not name_terms:
            continue
        coverage = len(name_terms & query) / len(name_terms)
        if coverage == 1 or (coverage >= 0.6 and len(name_terms) >= 3):
            found.append((coverage, len(name_terms), application))
    found.sort(key=lambda item: (-item[0], -item[1], item[2].order))
    return [
        Action(
            "application",
            _("Ouvrir « %(name)s »") % {"name": application.label},
            application_url(application),
        )
        for _coverage, _size, application in found[:2]
    ]


# The answer


@dataclass
class Answer:
    question: str
    passages: list
    confident: bool
    actions: list


def answer(question: str, *, applications=(), authenticated=True, index=None, hidden=frozenset()) -> Answer:
    """`hidden`: codes of the applications this user cannot open that are reserved to
    agents; neither their guides nor their shortcuts are suggested."""
    passages = rank(question, index=index, hidden=hidden)
    confident = is_confident(passages)
    applications = [application for application in applications if application.code not in hidden]
    actions = intents(question, applications=applications, authenticated=authenticated)
    if not confident:
        codes = {action.code for action in actions}
        actions += [action for action in fallback_actions(authenticated) if action.code not in codes]
    return Answer(question=question, passages=passages, confident=confident, actions=actions)
