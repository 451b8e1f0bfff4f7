"""Reads of the documentation: the published pages, grouped by theme and section, and
the search."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection

from support.models import DocPage
from support.selectors.assistant import match_pages

LIST_FIELDS = ("id", "slug", "title", "summary", "theme", "section", "audience", "order")
MAX_RESULTS = 30


def published_pages(*, audience=""):
    pages = DocPage.objects.filter(is_published=True)
    if audience:
        pages = pages.filter(audience__in=[DocPage.Audience.TOUS, audience])
    return pages


def group_pages(pages) -> list[dict]:
    """[{theme, sections: [{name, pages}]}], themes and sections in the order of their
    first page."""
    themes: dict[str, dict] = {}
    for page in pages:
        theme = themes.setdefault(page.theme, {"theme": page.theme, "sections": {}})
        theme["sections"].setdefault(page.section, {"name": page.section, "pages": []})["pages"].append(page)
    return [{"theme": t["theme"], "sections": list(t["sections"].values())} for t in themes.values()]


def search_pages(query, pages) -> list:
    """The pages matching a query, best first. PostgreSQL's full-text search (French
    configuration, ranked: title, then summary, then body); on SQLite, or when it finds
    nothing (it does not fold accents), an accent-insensitive match of every word."""
    if connection.vendor == "postgresql":
        results = _search_postgres(query, pages)
        if results:
            return results
    return _search_simple(query, pages)


def _search_postgres(query, pages):
    vector = (
        SearchVector("title", weight="A", config="french")
        + SearchVector("summary", weight="B", config="french")
        + SearchVector("body", weight="C", config="french")
    )
    search = SearchQuery(query, config="french", search_type="websearch")
    return list(
        pages.annotate(search=vector, rank=SearchRank(vector, search))
        .filter(search=search)
        .order_by("-rank", "order", "pk")
        .only(*LIST_FIELDS)[:MAX_RESULTS]
    )


def _search_simple(query, pages):
    scores = match_pages(query)
    if not scores:
        return []
    found = pages.filter(pk__in=list(scores)).only(*LIST_FIELDS)
    return sorted(found, key=lambda page: (-scores[page.pk], page.order, page.pk))[:MAX_RESULTS]
