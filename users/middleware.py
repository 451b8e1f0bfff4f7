"""Keeps a logged-in user who owes a second factor away from the portal until they
give it (users.services.two_factor)."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from users.services.two_factor import ENROL_SESSION_KEY

# Reachable while a second factor is owed: leaving, the language, the help pages, and
# the two-factor pages themselves.
ALWAYS_REACHABLE = {
    "users:logout",
    "set_language",
    "support:docs",
    "support:doc_page",
}
VERIFY_PAGES = {"users:two_factor_verify", "users:two_factor_email_code"}
ENROL_PAGES = {
    "users:two_factor_enrol",
    "users:two_factor_recovery_codes",
    "users:two_factor_recovery_codes_download",
}


class TwoFactorMiddleware:
    """Sends a logged-in user who owes a second factor to the page where they give it:
    the code page if they have an authenticator but this session has not been verified,
    the enrolment page if they must enrol. Costs no query: the flags are on the user
    row and in the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.view_name == "admin:login":
            # The admin's own login has no second step, and its success would reset the
            # lockout's count of failed codes: everybody logs in through the portal.
            next_url = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")
        user = request.user
        if not user.is_authenticated:
            return None
        if user.two_factor_enabled:
            if user.is_verified():
                return None
            target, allowed = "users:two_factor_verify", VERIFY_PAGES
        elif request.session.get(ENROL_SESSION_KEY):
            target, allowed = "users:two_factor_enrol", ENROL_PAGES
        else:
            return None
        if match is not None and (match.view_name in ALWAYS_REACHABLE or match.view_name in allowed):
            return None
        url = reverse(target)
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)
