"""The application search of the header: finds the applications a user can open, and the
guides of the documentation, from the words users type rather than the portal's own
names ("RIB" finds *Créer une coordonnée bancaire*, "droits" finds the habilitations).

Matching is case and accent insensitive; every word of the query must be found, either
as typed (also inside a longer word: "struct" finds "structure") or through one of its
synonyms. Synonyms are compared stemmed, so plurals and verb forms join them.
"""

import re
import unicodedata
from dataclasses import dataclass

from support.selectors.assistant import stem

# Each group: words and expressions that mean the same thing to someone looking for an
# application. Written folded (lower case, no accents); a word may sit in several groups.
SYNONYMS = [
    (
        "rib",
        "iban",
        "bic",
        "swift",
        "coordonnee bancaire",
        "compte bancaire",
        "releve d identite bancaire",
        "banque",
    ),
    ("approbation", "approuver", "valider", "validation", "demande", "refuser"),
    ("habilitation", "droit", "profil", "acces", "permission", "autorisation"),
    ("siret", "siren", "etablissement", "structure", "entreprise", "societe"),
    ("piece jointe", "kbis", "justificatif", "document", "fichier", "attestation", "pj"),
    ("adresse", "insee", "sirene"),
    ("gestionnaire principal", "gp", "transferer", "transfert"),
    ("ticket", "sollicitation", "support", "reclamation", "incident"),
    ("utilisateur", "collegue", "collaborateur", "salarie", "employe", "membre"),
    ("rattachement", "rattacher", "inviter", "invitation"),
    ("dupliquer", "duplication", "changement de siret", "nouveau siret"),
    ("documentation", "aide", "guide", "notice", "manuel"),
    ("chat", "tchat", "agent", "conseiller"),
]

# Words that say nothing of what is looked for.
STOPWORDS = set(
    """
    a au aux ce ces d de des du en et l la le les ma mes mon nos notre ou par pour sa ses
    son sur un une vos votre
    """.split()
)

MAX_DOC_RESULTS = 8


def fold(text: str) -> str:
    """Lower case, accents removed, every sign but letters and digits a space."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _stems(text: str) -> tuple:
    return tuple(stem(word) for word in fold(text).split() if word not in STOPWORDS)


def _lexicon():
    """{stemmed expression (a tuple of stems): {group numbers}}"""
    lexicon: dict[tuple, set] = {}
    for number, group in enumerate(SYNONYMS):
        for expression in group:
            lexicon.setdefault(_stems(expression), set()).add(f"#{number}")
    return lexicon


LEXICON = _lexicon()
LONGEST = max(len(expression) for expression in LEXICON)


def _expressions(stems: tuple):
    """(start, end, groups) of every lexicon expression in a sequence of stems, longest first."""
    found = []
    for start in range(len(stems)):
        for size in range(min(LONGEST, len(stems) - start), 0, -1):
            groups = LEXICON.get(stems[start : start + size])
            if groups:
                found.append((start, start + size, groups))
                break
    return found


@dataclass
class Target:
    """A text to search in: its folded form (for words as typed) and its terms (stems and
    synonym groups)."""

    folded: str
    terms: frozenset

    @classmethod
    def of(cls, *texts):
        folded = fold(" ".join(text for text in texts if text))
        stems = _stems(folded)
        terms = set(stems)
        for _start, _end, groups in _expressions(stems):
            terms |= groups
        return cls(folded=folded, terms=frozenset(terms))


def query_groups(query: str) -> list[tuple]:
    """One (typed text, own terms, synonym groups) per thing looked for: a word (its own
    term is its stem), or an expression of the lexicon ("coordonnées bancaires" is one
    thing, not two)."""
    words = [word for word in fold(query).split() if word not in STOPWORDS]
    stems = tuple(stem(word) for word in words)
    expressions = {start: (end, found) for start, end, found in _expressions(stems)}
    groups = []
    position = 0
    while position < len(words):
        end, found = expressions.get(position, (position + 1, set()))
        own = {stems[position]} if end - position == 1 else set()
        groups.append((" ".join(words[position:end]), frozenset(own), frozenset(found)))
        position = end
    return groups


def _found(group, title, body):
    """2: the name holds the words themselves; 1: a synonym, or the description; 0: absent."""
    typed, own, synonyms = group
    # As typed, only in the name: a fragment ("struct") would find anything in a sentence.
    if typed in title.folded or own & title.terms:
        return 2
    return 1 if (own | synonyms) & (title.terms | body.terms) else 0


def _rank(groups, candidates):
    """The candidates, (item, title, body), holding every thing looked for; those whose
    name holds the words themselves come first, then in the given order."""
    found = []
    for position, (item, title, body) in enumerate(candidates):
        scores = [_found(group, title, body) for group in groups]
        if scores and all(scores):
            in_title = sum(_found(group, title, Target("", frozenset())) for group in groups)
            found.append((-sum(scores), -in_title, position, item))
    return [row[-1] for row in sorted(found, key=lambda row: row[:3])]


def applications(groups, entries) -> list:
    """The catalogue entries matching the query, by name or description."""
    return _rank(
        groups,
        (
            (
                entry,
                Target.of(entry.application.label, entry.application.name),
                Target.of(entry.application.summary, entry.application.description),
            )
            for entry in entries
        ),
    )


def doc_pages(groups, pages) -> list:
    """The documentation pages matching the query by title, summary or rubric."""
    candidates = ((page, Target.of(page.title), Target.of(page.summary, page.section)) for page in pages)
    return _rank(groups, candidates)[:MAX_DOC_RESULTS]
