"""Nothing interactive is hidden under something else: the assistant's bubble, the "i"
help link, a message. At 375, 768 and 1280 px, on the pages a principal manager and a
support agent use most, every visible link, button and field is brought into view the
way a user (or the keyboard) brings it, and what lies at its centre must be the element
itself."""

import io
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from approvals import services as approvals
from structures.models import Structure
from support.models import Category, Queue, Ticket
from tests import factories
from tests.browser.test_shell_journeys import log_in
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Width and a usual height for each: a phone, a tablet, a small laptop.
VIEWPORTS = [(375, 740), (768, 1024), (1280, 800)]

# For every visible interactive element: scroll back to the top, bring the element into
# view only if it is not already (as the browser does when it takes the focus), then
# ask what is at its centre. It must be the element, something inside it or its label.
# A point that falls on an ancestor means the element is clipped there (a visually
# hidden input, a scrolled-away cell), not covered: those are left out.
COVERED_ELEMENTS = """
() => {
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]";
  const describe = (node) => {
    const name = (node.getAttribute("aria-label") || node.textContent || node.value || "")
      .replace(/\\s+/g, " ").trim().slice(0, 50);
    const classes = typeof node.className === "string" ? node.className.trim().split(/\\s+/) : [];
    return node.tagName.toLowerCase() + (node.id ? "#" + node.id : "")
      + classes.filter(Boolean).map((cls) => "." + cls).join("") + (name ? " «" + name + "»" : "");
  };
  const covered = [];
  for (const element of document.querySelectorAll(selector)) {
    if (!element.checkVisibility({visibilityProperty: true})) continue;
    const box = element.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    window.scrollTo(0, 0);
    element.scrollIntoView({block: "nearest", inline: "nearest"});
    const rect = element.getBoundingClientRect();
    const x = rect.left + rect.width / 2;
    const y = rect.top + rect.height / 2;
    if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) continue;
    const hit = document.elementFromPoint(x, y);
    if (!hit || element === hit || element.contains(hit) || hit.contains(element)) continue;
    if (Array.from(element.labels || []).some((label) => label.contains(hit))) continue;
    covered.push(describe(element) + " — under " + describe(hit));
  }
  window.scrollTo(0, 0);
  return covered;
}
"""


@pytest.fixture
def portal(catalogue):
    """The demo accounts, with enough rows on every list for the bottom of the first
    screen to hold links and buttons."""
    call_command("seed_demo", stdout=io.StringIO())
    if not Queue.objects.exists():
        import_module("support.migrations.0002_categories").seed_support(apps, None)
    import_module("support.migrations.0003_documentation").seed_pages(apps, None)
    company = Structure.objects.get(company_name="Atelier Textile du Nord")
    manager = User.objects.get(email="gestionnaire@exemple.fr")
    for _ in range(6):
        factories.AttachmentFactory(structure=company, uploaded_by=manager)
    bank_account = factories.BankAccountFactory(structure=company)
    for n in range(8):
        factories.attach(factories.UserFactory(email=f"collegue{n}@exemple.fr"), company)
    for n in range(4):
        requester = factories.UserFactory(email=f"demandeur{n}@exemple.fr")
        approvals.request_attachment(requester=requester, structure=company, comment="Nouvelle recrue")
    category = Category.objects.get(name="Factures émises")
    for n in range(6):
        Ticket.objects.create(
            number=f"T-2026-{n + 1:06d}",
            status=Ticket.Status.SOUMIS,
            submitted_at=timezone.now(),
            requester=manager,
            structure=company,
            contact_email=manager.email,
            queue=Queue.objects.get(code="portail"),
            category=category,
            subcategory=category.subcategories.first(),
            title=f"Facture rejetée {n + 1}",
            description="Le motif du rejet n’est pas clair.",
        )
    return {"company": company, "bank_account": bank_account}


def _covered_at_every_width(page):
    """The covered elements of the page as it is, at each width (the page is not
    reloaded: a message shown once stays on it)."""
    page.check()
    found = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function(f"() => window.innerWidth === {width}")
        found += [f"{page.url} at {width} px: {element}" for element in page.evaluate(COVERED_ELEMENTS)]
    return found


def _delete_an_attachment(page):
    page.get_by_role("table").get_by_role("link", name=re.compile("^Supprimer")).first.click()
    page.check()
    page.get_by_text("Oui", exact=True).click()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("alert").filter(has_text="a été supprimée")).to_be_visible()


def test_nothing_interactive_is_covered_for_a_principal_manager(page, portal):
    company = portal["company"]
    log_in(page, "gestionnaire@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    covered = _covered_at_every_width(page)
    for url in [
        f"/organisation/structure/pieces-jointes/?structure={company.pk}",
        "/organisation/utilisateurs/",
        "/approbations/",
        "/support/tickets/",
        f"/organisation/structure/coordonnees-bancaires/{portal['bank_account'].pk}/",
        f"/organisation/structure/services/?structure={company.pk}",
    ]:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(url)
        covered += _covered_at_every_width(page)

    # A message (with its close button) on an application page with its "i" link.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/organisation/structure/pieces-jointes/?structure={company.pk}")
    expect(page.locator("#aide-contextuelle")).to_be_visible()
    _delete_an_attachment(page)
    covered += _covered_at_every_width(page)
    assert not covered, "Covered elements:\n" + "\n".join(covered)


def test_nothing_interactive_is_covered_for_a_support_agent(page, portal):
    log_in(page, "agent@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    covered = _covered_at_every_width(page)
    ticket = Ticket.objects.order_by("pk").first()
    for url in ["/support/agents/", f"/support/agents/tickets/{ticket.pk}/", "/support/documentation/"]:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(url)
        covered += _covered_at_every_width(page)

    # A message: the agent takes the ticket.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/support/agents/tickets/{ticket.pk}/")
    page.get_by_role("button", name="M’affecter").click()
    expect(page.get_by_role("alert").filter(has_text="vous est affecté")).to_be_visible()
    covered += _covered_at_every_width(page)
    assert not covered, "Covered elements:\n" + "\n".join(covered)
