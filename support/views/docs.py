"""Support › Documentation: the guides, grouped by theme and section, their search, and
one page per guide (what each application's "i" link opens). Public: anybody may read
the documentation, logged in or not."""

from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chorus import access
from chorus.catalogue import application_url
from core.pages import SUPPORT, Crumb, page_context
from support import markdown
from support.forms.docs import DocSearchForm
from support.models import DocPage
from support.selectors import docs as doc_selectors


@access.public
@require_GET
def docs(request):
    form = DocSearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data.get("q", "").strip() if valid else ""
    audience = form.cleaned_data.get("public", "") if valid else ""
    # The agents' back-office guide is not offered to the users of structures.
    pages = doc_selectors.published_pages(audience=audience).exclude(
        application__code__in=access.hidden_agent_applications(request)
    )
    context = {
        "form": form,
        "query": query,
        "audience": audience,
        "searching": bool(query),
        "results": [],
        "groups": [],
    }
    if query:
        context["results"] = doc_selectors.search_pages(query, pages)
    else:
        context["groups"] = doc_selectors.group_pages(
            pages.only(*doc_selectors.LIST_FIELDS).order_by("order", "title", "pk")
        )
    return render(
        request,
        "support/docs/index.html",
        page_context(_("Documentation"), links=[SUPPORT], **context),
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
    links = [SUPPORT, Crumb(_("Documentation"), "support:docs")]
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
