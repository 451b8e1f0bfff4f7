"""One paginator for every list page, rendered by `{% dsfr_pagination page_obj %}`."""

from django.core.paginator import Page, Paginator


def paginate(request, items, *, per_page, count=None, numbered=True, on_each_side=1, on_ends=1) -> Page:
    """The page of `items` that `?page=` asks for. A page number that is not a number
    gives the first page, one past the end the last (Django's `get_page`): a stale link
    still shows a list, never a 404.

    `numbered` lists the page numbers, with "…" for the ones skipped; otherwise the
    links show "page / pages". `count`, when the view knows it already, saves the
    COUNT query."""
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.pages_list = (
        list(paginator.get_elided_page_range(page_obj.number, on_each_side=on_each_side, on_ends=on_ends))
        if numbered
        else []
    )
    return page_obj
