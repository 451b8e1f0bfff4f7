"""Sessions that end, and authenticated responses that no cache keeps.

A logged-in session ends after SESSION_IDLE_TIMEOUT seconds without activity, and
SESSION_ABSOLUTE_LIFETIME seconds after the login whatever the activity: the next
request logs the user out, and the login page says why (and keeps `next`). Both clocks
live in the session, which the authentication middleware has already loaded: checking
them costs no query, and the activity clock is written at most once a minute.

Requests a page makes on its own (the chat's polling) are not activity: their views are
marked with `not_activity` and leave the clock where it was.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.cache import add_never_cache_headers

LOGIN_AT_KEY = "session_login_at"
ACTIVITY_AT_KEY = "session_activity_at"
# Set in the anonymous session that follows an expiry; the login page reads it.
EXPIRED_KEY = "session_expired"
# Writing the clock on every page would write the session row on every page: a minute
# of imprecision costs nothing against a 30-minute timeout.
TOUCH_INTERVAL = 60


@dataclass(frozen=True)
class SessionClock:
    """What the warning dialog needs: seconds left before each limit."""

    idle_remaining: int
    absolute_remaining: int
    warning: int


def not_activity(view):
    """Marks a view a page calls by itself (polling): it does not keep the session alive."""
    view.session_activity = False
    return view


def _clock(login_at, activity_at, now) -> SessionClock:
    return SessionClock(
        idle_remaining=max(int(activity_at + settings.SESSION_IDLE_TIMEOUT - now), 0),
        absolute_remaining=max(int(login_at + settings.SESSION_ABSOLUTE_LIFETIME - now), 0),
        warning=settings.SESSION_IDLE_WARNING,
    )


def session_touch(request) -> SessionClock:
    """Restart the idle clock of the request's session (the absolute one never restarts)."""
    now = time.time()
    request.session[ACTIVITY_AT_KEY] = now
    request.session_clock = _clock(request.session[LOGIN_AT_KEY], now, now)
    return request.session_clock


@receiver(user_logged_in, dispatch_uid="core.sessions.start_clocks")
def _start_clocks(sender, request, user, **kwargs):
    # At the login itself, so that the pages that follow have nothing to write.
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[ACTIVITY_AT_KEY] = now
    request.session.pop(EXPIRED_KEY, None)


class SessionLifetimeMiddleware:
    """Ends idle and too old sessions; marks every authenticated response `no-store`.
    After AuthenticationMiddleware, before the middlewares that read request.user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.session_clock = None
        authenticated = request.user.is_authenticated and self._still_valid(request)
        response = self.get_response(request)
        if authenticated or request.user.is_authenticated:
            # Personal data, exports and downloads: neither the browser's cache (a shared
            # computer, the back button after logout) nor a proxy may keep them.
            add_never_cache_headers(response)
        return response

    def _still_valid(self, request) -> bool:
        session, now = request.session, time.time()
        login_at, activity_at = session.get(LOGIN_AT_KEY), session.get(ACTIVITY_AT_KEY)
        if login_at is None or activity_at is None:
            # A session opened before these rules: its clocks start now.
            login_at = session.setdefault(LOGIN_AT_KEY, now)
            activity_at = session.setdefault(ACTIVITY_AT_KEY, now)
        clock = _clock(login_at, activity_at, now)
        if clock.idle_remaining <= 0 or clock.absolute_remaining <= 0:
            logout(request)
            request.session[EXPIRED_KEY] = True
            return False
        request.session_clock = clock
        return True

    def process_view(self, request, view_func, view_args, view_kwargs):
        clock = request.session_clock
        if clock is None or not getattr(view_func, "session_activity", True):
            return None
        if settings.SESSION_IDLE_TIMEOUT - clock.idle_remaining >= TOUCH_INTERVAL:
            session_touch(request)
        return None
