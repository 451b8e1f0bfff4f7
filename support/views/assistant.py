"""The virtual assistant: the bubble of every page posts the question here and shows the
answer fragment; without JavaScript, the same address is a page of its own.

Public (visitors who cannot log in need help most), CSRF-protected like every form.
The answer quotes the documentation only (support.selectors.assistant); the question is shown
back as text, escaped like any user input."""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chorus import access
from core.pages import SUPPORT, page_context
from support.forms.assistant import QuestionForm
from support.selectors import assistant

FRAGMENT_HEADER = "X-Requested-With"


def _wants_fragment(request):
    return request.headers.get(FRAGMENT_HEADER) == "XMLHttpRequest"


@access.public
@require_http_methods(["GET", "POST"])
def assistant_ask(request):
    form = QuestionForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "question": "", "error": "", "answer": None, "prefill": ""}
    if request.method == "GET":
        # Other pages (the application search with no result) send their words here.
        context["prefill"] = request.GET.get("question", "")[: assistant.MAX_QUESTION_LENGTH]
    if request.method == "POST":
        if form.is_valid():
            context["question"] = form.cleaned_data["question"]
            context["answer"] = assistant.answer(
                form.cleaned_data["question"],
                applications=access.get_access(request).catalogue.values(),
                authenticated=request.user.is_authenticated,
                hidden=access.hidden_agent_applications(request),
            )
        else:
            # The question as typed, shown back (escaped) with what is wrong with it;
            # a very long one is cut, it is only a reminder.
            context["question"] = request.POST.get("question", "")[:200]
            context["error"] = form.errors["question"][0]
    if _wants_fragment(request):
        return render(request, "support/assistant/_answer.html", context)
    title = _("Assistant virtuel")
    return render(request, "support/assistant/page.html", page_context(title, links=[SUPPORT], **context))
