"""Browser tests: Playwright drives Debian's Chromium against the live server, and every
page a test visits is checked with axe-core for WCAG 2.1 A/AA (the base of the RGAA)."""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
# Chromium must not try to reach the network: this machine has none, and the portal
# does not need it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
CSP_VIOLATION = "violates the following Content Security Policy directive"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def check_accessibility(page):
    """Fail on any serious or critical WCAG 2.1 A/AA violation of the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[node['target'] for node in v['nodes']][:5]}"
        for v in blocking
    ]
    assert not blocking, f"Accessibility violations on {page.url}:\n" + "\n".join(details)


class CheckedPage:
    """A page whose every visited URL must be checked for accessibility before the
    test ends: call `page.check()` after each navigation."""

    def __init__(self, page):
        self._page = page
        self.visited, self.checked = set(), set()
        page.on(
            "framenavigated", lambda frame: frame == page.main_frame and self.visited.add(_path(frame.url))
        )
        # Chromium reports what the Content-Security-Policy blocked ("Refused to execute
        # inline script…", "Applying inline style violates…") on the console.
        self.csp_violations = []
        page.on(
            "console",
            lambda message: (
                CSP_VIOLATION in message.text and self.csp_violations.append(f"{page.url}: {message.text}")
            ),
        )

    def __getattr__(self, name):
        return getattr(self._page, name)

    def check(self):
        self._page.wait_for_load_state("load")
        # Measured at rest: during a fade-in, text is half-transparent and fails contrast.
        self._page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
        check_accessibility(self._page)
        violations, self.csp_violations = self.csp_violations, []
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
        self.checked.add(_path(self._page.url))

    def unchecked(self):
        return self.visited - self.checked


def _path(url):
    return url.split("#", 1)[0]


def _new_page(browser, live_server, **context_options):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", **context_options)
    context.set_default_timeout(10_000)
    return context, CheckedPage(context.new_page())


@pytest.fixture
def page(browser, live_server, catalogue):
    context, checked_page = _new_page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield checked_page
    unchecked = checked_page.unchecked()
    context.close()
    assert not unchecked, f"pages visited without an accessibility check: {sorted(unchecked)}"


@pytest.fixture
def mobile_page(browser, live_server, catalogue):
    context, checked_page = _new_page(
        browser, live_server, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    yield checked_page
    unchecked = checked_page.unchecked()
    context.close()
    assert not unchecked, f"pages visited without an accessibility check: {sorted(unchecked)}"
