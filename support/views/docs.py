"""Support › Documentation: the guides, grouped by theme and section, their search, and
one page per guide (what each application's "i" link opens). Public: anybody may read
the documentation, logged in or not."""

from django import forms
from django.db import connection
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from chorus import access
from chorus.catalogue import application_url
from core.pages import page_context
from support import assistant, markdown
from support.models import DocPage

LIST_FIELDS = ("id", "slug", "title", "summary", "theme", "section", "audience", "order")
MAX_RESULTS = 30


class DocSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Mots-clés"), required=False, max_length=200)
    public = forms.ChoiceField(
        label=gettext_lazy("Public"),
        required=False,
        choices=[("", gettext_lazy("Tous les publics"))]
        + [choice for choice in DocPage.Audience.choices if choice[0] != DocPage.Audience.TOUS],
    )


def _docs_links():
    return [{"url": reverse("domain", args=["support"]), "title": _("Support")}]


def published_pages(audience=""):
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
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

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
    scores = assistant.match_pages(query)
    if not scores:
        return []
    found = pages.filter(pk__in=list(scores)).only(*LIST_FIELDS)
    return sorted(found, key=lambda page: (-scores[page.pk], page.order, page.pk))[:MAX_RESULTS]


@access.public
@require_GET
def docs(request):
    form = DocSearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data.get("q", "").strip() if valid else ""
    audience = form.cleaned_data.get("public", "") if valid else ""
    # The agents' back-office guide is not offered to the users of structures.
    pages = published_pages(audience).exclude(application__code__in=access.hidden_agent_applications(request))
    context = {
        "form": form,
        "query": query,
        "audience": audience,
        "searching": bool(query),
        "results": [],
        "groups": [],
    }
    if query:
        context["results"] = search_pages(query, pages)
    else:
        context["groups"] = group_pages(pages.only(*LIST_FIELDS).order_by("order", "title", "pk"))
    return render(
        request,
        "support/docs/index.html",
        page_context(_("Documentation"), links=_docs_links(), **context),
    )


@access.public
@require_GET
def doc_page(request, slug):
    page = get_object_or_404(
        DocPage.objects.select_related("application__domain"), slug=slug, is_published=True
    )
    siblings = list(
        DocPage.objects.filter(is_published=True, theme=page.theme, section=page.section)
        .exclude(pk=page.pk)
        .only("slug", "title", "order")
        .order_by("order", "title", "pk")
    )
    links = [*_docs_links(), {"url": reverse("support:docs"), "title": _("Documentation")}]
    return render(
        request,
        "support/docs/page.html",
        page_context(
            page.title,
            links=links,
            doc=page,
            body=markdown.render(page.body),
            summary_links=markdown.toc(page.body),
            application=page.application,
            application_link=application_url(page.application) if page.application_id else "",
            siblings=siblings,
            show_audience=page.audience != DocPage.Audience.TOUS,
        ),
    )


urlpatterns = [
    path("documentation/", docs, name="docs"),
    path("documentation/<slug:slug>/", doc_page, name="doc_page"),
]
