"""Links of the shell shown only to those who can use them: the Administration link,
and the logged-out contact form."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from tests import factories

ADMIN_LINK = f'href="{reverse("admin:index")}"'
PUBLIC_CONTACT_LINK = f'href="{reverse("support:public_ticket")}"'


def _header(page):
    return page[page.index('<header role="banner"') : page.index("</header>")]


def _footer(page):
    return page[page.index('<footer class="fr-footer"') : page.index("</footer>")]


def _main(page):
    return page[page.index('<main id="contenu"') : page.index("</main>")]


def test_support_agent_without_admin_permission_sees_no_administration_link(client, staff_user):
    client.force_login(staff_user)

    page = client.get("/").content.decode()

    assert ADMIN_LINK not in page
    assert "Administration" not in _header(page)


def test_operator_sees_the_administration_link(client, db):
    client.force_login(factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True))

    page = client.get("/").content.decode()

    assert ADMIN_LINK in _header(page)


def test_agent_with_an_admin_permission_sees_the_administration_link(client, staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="view_docpage"))
    client.force_login(staff_user)

    page = client.get("/").content.decode()

    assert ADMIN_LINK in _header(page)


def test_portal_user_sees_no_administration_link_at_no_extra_query(
    client, structure, principal_manager, django_assert_max_num_queries
):
    client.force_login(principal_manager)
    client.get("/")  # warm the session and the caches
    with django_assert_max_num_queries(30) as queries:
        page = client.get("/").content.decode()

    assert ADMIN_LINK not in page
    assert not [q for q in queries.captured_queries if "auth_permission" in q["sql"]]


def test_login_page_links_to_the_logged_out_contact_form(client, db):
    page = client.get(reverse("users:login")).content.decode()

    assert PUBLIC_CONTACT_LINK in _main(page)


def test_footer_help_links_to_the_logged_out_contact_form(client, db):
    page = client.get(reverse("search")).content.decode()

    assert PUBLIC_CONTACT_LINK in _footer(page)


def test_public_home_links_to_the_logged_out_contact_form(client, db):
    page = client.get(reverse("home")).content.decode()

    assert PUBLIC_CONTACT_LINK in _main(page)
