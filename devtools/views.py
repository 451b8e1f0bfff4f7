"""Two reference pages for the load benchmark, served only where devtools is installed:
a constant response (the cost of the stack: WSGI, middleware) and the portal's empty
DSFR page (the cost of the frame every page pays: session, user, header, menus).
Each key page's throughput is compared with the shell's."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chorus import access
from core.pages import page_context


@access.public
@require_GET
def constant(request):
    return HttpResponse(b"ok", content_type="text/plain")


@access.authenticated
@require_GET
def shell(request):
    return render(request, "benchmarks/shell.html", page_context("Page vide"))

