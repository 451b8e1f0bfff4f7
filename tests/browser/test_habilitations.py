"""Gérer les habilitations in a real browser, one page: the principal manager chooses the
structure and the user at the top (each choice updates the page), stages an addition, a
replacement (pencil) and a removal (cross), then submits; or leaves without submitting.
At 375 px the actions fit the screen."""

import re

import pytest
from playwright.sync_api import expect

from chorus.models import Habilitation, Level
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def held(user, structure):
    rows = Habilitation.objects.filter(user=user, structure=structure, service__isnull=True)
    return set(rows.values_list("profile__application__code", "profile__level"))


@pytest.fixture
def team():
    structure = factories.StructureFactory(company_name="Textiles du Nord")
    manager = factories.UserFactory(email="gestionnaire@exemple.fr", first_name="Gaëlle", last_name="Gestion")
    factories.attach(manager, structure)
    user = factories.UserFactory(email="utilisateur@exemple.fr", first_name="Ugo", last_name="Usager")
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    factories.grant(user, structure, "ENGAGEMENT", Level.CONSULTATION)
    structure.refresh_from_db()
    return structure, manager, user


def open_user_page(page, structure):
    page.goto("/organisation/utilisateurs/habilitations/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer les habilitations des utilisateurs")
    # The manager's only structure is already chosen: its users are listed. Choosing the
    # user is enough: the page shows their profiles below, at an address that keeps the choice.
    expect(page.get_by_role("button", name="Afficher les profils")).to_be_hidden()
    page.get_by_label("Utilisateur").select_option(label="Ugo Usager — utilisateur@exemple.fr")
    page.wait_for_url(re.compile(rf"/habilitations/\?structure={structure.pk}&service=&user=\d+$"))
    page.check()
    expect(page.get_by_role("heading", level=2, name="Profils de Ugo Usager")).to_be_visible()


def choose_profile(page, application, level):
    page.get_by_role("combobox", name="Application").select_option(label=application)
    page.get_by_text(level, exact=True).click()


def test_principal_manager_adds_replaces_and_removes_profiles_then_submits(page, team):
    structure, manager, user = team
    log_in(page, manager.email)
    page.check()
    open_user_page(page, structure)
    table = page.get_by_role("table")
    expect(table).to_contain_text("Facture émise – consultation")
    expect(table).to_contain_text("Engagement – consultation")

    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.check()
    picker = page.get_by_role("region", name="Ajouter un profil")
    expect(picker).to_contain_text("utilisateur@exemple.fr")
    # A profile already held is refused.
    choose_profile(page, "Facture émise", "Consultation")
    picker.get_by_role("button", name="Ajouter à la liste").click()
    page.check()
    expect(page.get_by_role("region", name="Ajouter un profil")).to_contain_text(
        "L’utilisateur possède déjà le profil sélectionné"
    )
    choose_profile(page, "Facture reçue", "Modification")
    page.get_by_role("button", name="Ajouter à la liste").click()
    page.check()
    expect(page.get_by_role("row", name=re.compile("Facture reçue – modification"))).to_contain_text(
        "À ajouter"
    )

    page.get_by_role("button", name="Remplacer le profil Facture émise – consultation").click()
    page.check()
    expect(page.get_by_role("heading", level=2, name=re.compile("Remplacer le profil"))).to_be_visible()
    choose_profile(page, "Facture émise", "Modification")
    page.get_by_role("button", name="Remplacer dans la liste").click()
    page.check()

    page.get_by_role("button", name="Retirer le profil Engagement – consultation").click()
    page.check()
    expect(page.get_by_role("row", name=re.compile("Engagement – consultation"))).to_contain_text("À retirer")
    expect(page.get_by_role("main")).to_contain_text("4 modifications en attente")
    assert held(user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }

    page.get_by_role("button", name="Soumettre").click()
    page.check()

    expect(page.get_by_role("main")).to_contain_text("Les habilitations de Ugo Usager ont été mises à jour.")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Facture reçue – modification")
    expect(table).to_contain_text("Facture émise – modification")
    expect(table).not_to_contain_text("Engagement")
    expect(table).not_to_contain_text("À ajouter")
    assert held(user, structure) == {
        ("FACTURE_RECUE", Level.MODIFICATION),
        ("FACTURE_EMISE", Level.MODIFICATION),
    }


def test_leaving_the_page_without_submitting_changes_nothing(page, team):
    structure, manager, user = team
    log_in(page, manager.email)
    page.check()
    open_user_page(page, structure)
    page.get_by_role("button", name="Retirer le profil Facture émise – consultation").click()
    page.check()
    expect(page.get_by_role("row", name=re.compile("Facture émise – consultation"))).to_contain_text(
        "À retirer"
    )

    page.get_by_role("banner").get_by_role("link", name="Portail Organisation", exact=True).click()
    dialog = page.get_by_role("dialog", name="Quitter la page ?")
    expect(dialog).to_contain_text("Les modifications apportées seront perdues")
    page.check()
    dialog.get_by_role("link", name="Quitter").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()
    assert held(user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }
    # Coming back shows what is stored, without the abandoned change.
    open_user_page(page, structure)
    expect(page.get_by_role("table")).not_to_contain_text("À retirer")


def test_one_page_from_the_choice_of_structure_to_the_saved_profile(page, team):
    structure, manager, user = team
    other = factories.StructureFactory(company_name="Atelier du Sud")
    factories.attach(manager, other)
    log_in(page, manager.email)
    page.check()
    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.goto("/organisation/utilisateurs/habilitations/")
    page.check()
    breadcrumb = page.get_by_role("navigation", name="vous êtes ici :")
    expect(breadcrumb.get_by_text("Gérer les habilitations des utilisateurs")).to_have_count(1)
    # Two structures: none chosen yet, and no button to press.
    expect(page.get_by_role("button", name="Choisir la structure")).to_be_hidden()
    page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(structure.pk))
    page.wait_for_url(re.compile(rf"\?structure={structure.pk}"))
    page.check()
    page.get_by_label("Utilisateur").select_option(label="Ugo Usager — utilisateur@exemple.fr")
    expect(page.get_by_role("heading", level=2, name="Profils de Ugo Usager")).to_be_visible()
    page.check()
    expect(page.get_by_role("combobox", name=re.compile("^Structure"))).to_have_value(str(structure.pk))

    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.check()
    choose_profile(page, "Facture reçue", "Consultation")
    page.get_by_role("button", name="Ajouter à la liste").click()
    page.check()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("Les habilitations de Ugo Usager ont été mises à jour.")
    page.check()
    # Still the same page, on the same user.
    assert re.search(rf"\?structure={structure.pk}&service=&user={user.pk}$", page.url)
    expect(page.get_by_role("table")).to_contain_text("Facture reçue – consultation")
    assert ("FACTURE_RECUE", Level.CONSULTATION) in held(user, structure)
    # Page loads from the empty page to the saved profile: the page, the structure, the
    # user, Ajouter, Ajouter à la liste, Soumettre (which comes back to the same page).
    assert len(navigations) == 6, navigations

    # Another structure: its users only; the previous user is forgotten, not refused.
    page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(other.pk))
    page.wait_for_url(re.compile(rf"\?structure={other.pk}"))
    page.check()
    expect(page.get_by_role("heading", level=2, name="Profils de Ugo Usager")).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text("Sélectionnez un choix valide")


def test_habilitation_actions_fit_a_375_px_screen(mobile_page, team):
    page = mobile_page
    structure, manager, user = team
    log_in(page, manager.email)
    page.check()
    open_user_page(page, structure)
    width = page.evaluate("() => window.innerWidth")
    assert width == 375
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
    # Nor inside the table: no part of the page scrolls sideways.
    overflowing = page.evaluate(
        """() => Array.from(document.querySelectorAll("main *"))
            .filter((el) => el.scrollWidth > el.clientWidth + 1
                && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
            .map((el) => el.className)"""
    )
    assert overflowing == []
    for name in (
        "Remplacer le profil Facture émise – consultation",
        "Retirer le profil Engagement – consultation",
        "Ajouter",
        "Soumettre",
    ):
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    page.get_by_role("button", name="Retirer le profil Engagement – consultation").click()
    page.check()
    expect(page.get_by_role("button", name="Conserver le profil Engagement – consultation")).to_be_visible()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width


def test_with_the_keyboard_the_page_updates_on_enter_not_at_each_arrow(page, team):
    structure, manager, user = team
    other = factories.StructureFactory(company_name="Atelier du Sud")
    factories.attach(manager, other)
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/habilitations/")
    page.check()
    structures = page.get_by_role("combobox", name=re.compile("^Structure"))
    structures.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert "structure=" not in page.url
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?structure=\d+"))
    page.check()
    # The next choice has the focus.
    expect(page.get_by_role("combobox", name=re.compile("^Utilisateur"))).to_be_focused()


def test_my_habilitations_on_one_page_from_the_choice_of_structure_to_the_request(page, team):
    from approvals.models import ApprovalRequest

    structure, manager, user = team
    other = factories.StructureFactory(company_name="Atelier du Sud", with_principal_manager=True)
    factories.attach(user, other)
    log_in(page, user.email)
    page.check()
    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.goto("/organisation/utilisateurs/mes-habilitations/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer mes habilitations")
    # Two structures: none chosen yet, the overview of all my profiles; no button to press.
    expect(page.get_by_role("button", name="Choisir la structure")).to_be_hidden()
    expect(page.get_by_role("table", name=re.compile("Mes profils sur mes structures"))).to_be_visible()
    page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(structure.pk))
    page.wait_for_url(re.compile(rf"\?structure={structure.pk}"))
    page.check()
    # My profiles on it, below the choice that stays at the top.
    expect(page.get_by_role("heading", level=2, name="Mes profils")).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile("^Structure"))).to_have_value(str(structure.pk))
    expect(page.get_by_role("main")).to_contain_text("Facture émise – consultation")
    expect(page.get_by_role("button", name="Afficher mes profils")).to_be_hidden()

    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.check()
    choose_profile(page, "Facture reçue", "Consultation")
    page.get_by_role("button", name="Ajouter à la liste").click()
    page.check()
    page.get_by_role("button", name="Soumettre").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Votre demande a été transmise aux gestionnaires de la structure")
    page.check()
    # Still the same page, on the same structure, with the request among my pending ones.
    assert re.search(rf"/mes-habilitations/\?structure={structure.pk}&", page.url), page.url
    expect(page.locator("#demandes-en-attente")).to_contain_text("Ajouter : Facture reçue – consultation")
    assert ApprovalRequest.objects.filter(requester=user, structure=structure).count() == 1
    # The page, the structure, Ajouter, Ajouter à la liste, Soumettre (back to the same page).
    assert len(navigations) == 5, navigations

    # Another structure: my profiles on it, nothing staged carried over.
    page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(other.pk))
    page.wait_for_url(re.compile(rf"\?structure={other.pk}"))
    page.check()
    profiles = page.get_by_role("table", name=re.compile("Profils"))
    expect(profiles).to_contain_text("Aucun profil sur ce périmètre.")
