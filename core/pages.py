"""What every portal page gives its template: a title and a breadcrumb."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Crumb:
    """One ancestor in a breadcrumb: a title and the page it links to, a URL name with
    its arguments (reversed when the page is built, so a module declares its trail once)
    or a URL already known."""

    title: str
    viewname: str = ""
    args: tuple = ()
    url: str = ""

    def as_link(self) -> dict:
        return {"url": self.url or reverse(self.viewname, args=self.args), "title": str(self.title)}


# The pages most trails start from: the two domain home pages and the user's account.
ORGANISATION = Crumb(_("Organisation"), "domain", ("organisation",))
SUPPORT = Crumb(_("Support"), "domain", ("support",))
ACCOUNT = Crumb(_("Mon compte"), "users:account")


def page_context(title, *, links=(), **extra) -> dict:
    """Context of a portal page. `links` are the breadcrumb's ancestors, as `Crumb`s;
    the home page is always first. A fresh dict each call: the DSFR breadcrumb tag
    writes into it."""
    breadcrumb = {"current": title}
    if links:
        breadcrumb["links"] = [crumb.as_link() for crumb in links]
    return {"page_title": title, "breadcrumb_data": breadcrumb, **extra}


class PageMixin:
    """The same for class-based views: set `page_title` and `breadcrumb` (the `Crumb`s)."""

    page_title = None
    breadcrumb = ()

    def get_context_data(self, **kwargs):
        return super().get_context_data(**page_context(self.page_title, links=self.breadcrumb), **kwargs)
