"""What every portal page gives its template: a title and a breadcrumb."""


def page_context(title, *, links=(), **extra) -> dict:
    """Context of a portal page. `links` are the breadcrumb's ancestors, as
    {"url": ..., "title": ...}; the home page is always first. A fresh dict each call:
    the DSFR breadcrumb tag writes into it."""
    breadcrumb = {"current": title}
    if links:
        breadcrumb["links"] = list(links)
    return {"page_title": title, "breadcrumb_data": breadcrumb, **extra}


class PageMixin:
    """The same for class-based views: set `page_title`, override `breadcrumb_links()`."""

    page_title = None

    def breadcrumb_links(self):
        return ()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **page_context(self.page_title, links=self.breadcrumb_links()), **kwargs
        )
