"""Échange avec un agent: opening hours, who reaches which chat, messages (escaped,
polled), agents taking chats once, ending, turning a chat into a ticket, transcripts."""

import json
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from chorus.models import AuditEvent
from support.models import Category, ChatMessage, ChatSession, Queue, SubCategory, Ticket, TicketEvent
from support.services import chat as chat_services
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
START = reverse("support:chat_start")
AGENT_CHATS = reverse("support:agent_chats")
SCRIPT = "<script>alert('x')</script>"
Status = ChatSession.Status


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture(autouse=True)
def always_open(settings):
    """View tests run at any time of day: agents answer around the clock unless a test
    says otherwise. The hours themselves are tested with an injected clock."""
    settings.SUPPORT_CHAT_HOURS = ("00:00", "23:59")
    settings.SUPPORT_CHAT_DAYS = (0, 1, 2, 3, 4, 5, 6)
    settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS = False


@pytest.fixture
def queues(db):
    for code, name in [("portail", "Support portail"), ("metier", "Support métier")]:
        Queue.objects.get_or_create(code=code, defaults={"name": name, "recipient": name})
    return {queue.code: queue for queue in Queue.objects.all()}


@pytest.fixture
def theme(queues):
    category = Category.objects.create(name="Thème des essais de chat", order=90)
    SubCategory.objects.create(category=category, name="Ancienne question", order=0, is_active=False)
    SubCategory.objects.create(category=category, name="Question générale", order=1, object_type="Compte")
    SubCategory.objects.create(category=category, name="Autre question", order=2)
    return category


@pytest.fixture
def user(db):
    return factories.UserFactory(email="lea@exemple.fr", first_name="Léa", last_name="Dupré")


@pytest.fixture
def other_user(db):
    return factories.UserFactory(email="autre.utilisateur@exemple.fr")


@pytest.fixture
def agent(staff_user):
    staff_user.first_name = "Julien"
    staff_user.save(update_fields=["first_name"])
    return staff_user


@pytest.fixture
def other_agent(db):
    return factories.UserFactory(email="agent2@exemple.fr", first_name="Inès", is_staff=True)


@pytest.fixture
def waiting(user, theme):
    return ChatSession.objects.create(user=user, theme=theme)


@pytest.fixture
def ongoing(waiting, agent):
    chat_services.chat_take(session_id=waiting.pk, agent=agent)
    waiting.refresh_from_db()
    return waiting


def url(name, session):
    return reverse(f"support:{name}", args=[session.pk])


# Opening hours, with an injected clock


def test_chat_is_open_on_working_days_from_8_30_to_18_30_paris_time(settings):
    del (
        settings.SUPPORT_CHAT_HOURS,
        settings.SUPPORT_CHAT_DAYS,
        settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS,
    )
    wednesday = (2025, 3, 12)
    assert not chat_services.is_open(paris(*wednesday, 8, 29))
    assert chat_services.is_open(paris(*wednesday, 8, 30))
    assert chat_services.is_open(paris(*wednesday, 12, 0))
    assert chat_services.is_open(paris(*wednesday, 18, 30, 59))
    assert not chat_services.is_open(paris(*wednesday, 18, 31))
    assert not chat_services.is_open(paris(2025, 3, 15, 10, 0))  # Saturday
    assert not chat_services.is_open(paris(2025, 3, 16, 10, 0))  # Sunday


def test_opening_hours_are_read_in_paris_time_whatever_the_clocks_zone(settings):
    del (
        settings.SUPPORT_CHAT_HOURS,
        settings.SUPPORT_CHAT_DAYS,
        settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS,
    )
    assert chat_services.is_open(datetime(2025, 3, 12, 7, 45, tzinfo=UTC))  # 8 h 45 in winter
    assert not chat_services.is_open(datetime(2025, 7, 2, 6, 15, tzinfo=UTC))  # 8 h 15 in summer
    assert chat_services.is_open(datetime(2025, 7, 2, 6, 45, tzinfo=UTC))  # 8 h 45 in summer
    assert not chat_services.is_open(datetime(2025, 7, 2, 16, 45, tzinfo=UTC))  # 18 h 45 in summer


def test_chat_is_closed_on_french_public_holidays_unless_configured_otherwise(settings):
    del (
        settings.SUPPORT_CHAT_HOURS,
        settings.SUPPORT_CHAT_DAYS,
        settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS,
    )
    assert not chat_services.is_open(paris(2025, 7, 14, 10, 0))  # Fête nationale, a Monday
    assert not chat_services.is_open(paris(2025, 4, 21, 10, 0))  # Lundi de Pâques
    assert not chat_services.is_open(paris(2025, 5, 29, 10, 0))  # Ascension
    assert not chat_services.is_open(paris(2025, 6, 9, 10, 0))  # Lundi de Pentecôte
    assert chat_services.is_open(paris(2025, 4, 22, 10, 0))
    settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS = False
    assert chat_services.is_open(paris(2025, 7, 14, 10, 0))


def test_public_holidays_follow_easter():
    assert {paris(2024, 4, 1).date(), paris(2024, 5, 9).date(), paris(2024, 5, 20).date()} <= (
        chat_services.french_public_holidays(2024)
    )
    assert len(chat_services.french_public_holidays(2026)) == 11


def test_opening_hours_and_days_come_from_settings(settings):
    settings.SUPPORT_CHAT_HOURS = ("10:00", "12:00")
    settings.SUPPORT_CHAT_DAYS = (5,)
    assert chat_services.is_open(paris(2025, 3, 15, 11, 0))  # Saturday
    assert not chat_services.is_open(paris(2025, 3, 15, 12, 1))
    assert not chat_services.is_open(paris(2025, 3, 12, 11, 0))  # Wednesday
    assert chat_services.hours_label() == "le samedi, de 10 h à 12 h (heure de Paris)"


def test_default_hours_in_words(settings):
    del (
        settings.SUPPORT_CHAT_HOURS,
        settings.SUPPORT_CHAT_DAYS,
        settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS,
    )
    assert chat_services.hours_label() == (
        "du lundi au vendredi, de 8 h 30 à 18 h 30 (heure de Paris), hors jours fériés"
    )


def test_starting_a_chat_outside_opening_hours_is_refused(settings, user, theme):
    del settings.SUPPORT_CHAT_HOURS, settings.SUPPORT_CHAT_DAYS
    with pytest.raises(chat_services.ChatRefused) as refused:
        chat_services.chat_start(user=user, theme=theme, now=paris(2025, 3, 15, 10, 0))
    assert "Les agents ne sont pas disponibles en ce moment." in str(refused.value.message)
    assert not ChatSession.objects.exists()
    session = chat_services.chat_start(user=user, theme=theme, now=paris(2025, 3, 12, 10, 0))
    assert session.status == Status.EN_ATTENTE


# Permission matrix

USER_VIEWS = [
    ("chat", "get"),
    ("chat_messages", "get"),
    ("chat_transcript", "get"),
    ("chat_post", "post"),
    ("chat_end", "post"),
    ("chat_to_ticket", "post"),
]


def _call(client, name, method, session):
    target = url(name, session)
    return client.post(target, {"body": "Bonjour"}) if method == "post" else client.get(target)


@pytest.mark.parametrize(("name", "method"), USER_VIEWS + [("agent_chat_take", "post")])
def test_anonymous_is_sent_to_login_from_every_chat_view(client, waiting, name, method):
    response = _call(client, name, method, waiting)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("target", [START, AGENT_CHATS])
def test_anonymous_is_sent_to_login_from_the_chat_pages(client, db, target):
    response = client.get(target)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize(("name", "method"), USER_VIEWS)
def test_another_user_gets_not_found_on_someone_elses_chat(client, ongoing, other_user, name, method):
    client.force_login(other_user)
    assert _call(client, name, method, ongoing).status_code == 404
    ongoing.refresh_from_db()
    assert ongoing.status == Status.EN_COURS
    assert not ongoing.messages.exists()


def test_a_chat_id_that_does_not_exist_is_not_found(client, user):
    client.force_login(user)
    assert client.get(reverse("support:chat", args=[999_999])).status_code == 404


@pytest.mark.parametrize("name", ["chat", "chat_messages", "chat_transcript"])
def test_the_user_and_a_support_agent_open_the_chat(client, waiting, user, agent, name):
    for persona in (user, agent):
        client.force_login(persona)
        assert client.get(url(name, waiting)).status_code == 200


def test_an_agent_cannot_turn_a_users_chat_into_a_ticket(client, ongoing, agent):
    ChatMessage.objects.create(session=ongoing, author=ongoing.user, body="Bonjour")
    client.force_login(agent)
    assert client.post(url("chat_to_ticket", ongoing)).status_code == 404
    assert not Ticket.objects.exists()


def test_portal_user_is_forbidden_the_agents_chat_views(client, waiting, user):
    client.force_login(user)
    assert client.get(AGENT_CHATS).status_code == 403
    assert client.post(url("agent_chat_take", waiting)).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Status.EN_ATTENTE


def test_superuser_operators_do_not_open_chats_as_portal_users(client, db):
    operator = factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get(START).status_code == 403


# Starting a chat


def test_user_chooses_a_theme_and_gets_a_waiting_chat(client, user, theme):
    inactive = Category.objects.create(name="Thème retiré", is_active=False)
    client.force_login(user)
    page = client.get(START)
    assert page.status_code == 200
    choices = list(page.context["form"].fields["theme"].queryset)
    assert theme in choices and inactive not in choices
    response = client.post(START, {"theme": theme.pk}, follow=True)
    session = ChatSession.objects.get()
    assert (session.user, session.theme, session.status) == (user, theme, Status.EN_ATTENTE)
    assert response.redirect_chain[-1][0] == url("chat", session)
    assert any("un agent va vous répondre" in message for message in messages_of(response))
    assert AuditEvent.objects.filter(action="chat_start", object_id=str(session.pk)).exists()


def test_starting_without_a_theme_says_so_and_creates_nothing(client, user, theme):
    client.force_login(user)
    response = client.post(START, {})
    assert response.status_code == 200
    assert "Choisissez le thème de votre question." in response.content.decode()
    assert not ChatSession.objects.exists()


def test_starting_on_an_inactive_theme_is_refused(client, user, theme):
    inactive = Category.objects.create(name="Thème retiré", is_active=False)
    client.force_login(user)
    response = client.post(START, {"theme": inactive.pk})
    assert "Ce thème n’est pas proposé" in response.content.decode()
    assert not ChatSession.objects.exists()


def test_outside_opening_hours_the_page_gives_the_hours_and_offers_a_ticket(client, settings, user, theme):
    settings.SUPPORT_CHAT_DAYS = ()
    client.force_login(user)
    page = client.get(START)
    content = page.content.decode()
    assert page.context["form"] is None
    assert "Les agents ne sont pas disponibles en ce moment" in content
    assert "de 0 h à 23 h 59 (heure de Paris)" in content
    assert f'href="{reverse("support:ticket_create")}"' in content
    response = client.post(START, {"theme": theme.pk}, follow=True)
    assert "Les agents ne sont pas disponibles en ce moment." in messages_of(response)
    assert not ChatSession.objects.exists()


def test_without_any_active_theme_the_page_offers_a_ticket(client, user):
    Category.objects.update(is_active=False)
    client.force_login(user)
    content = client.get(START).content.decode()
    assert "Aucun thème n’est proposé pour le moment" in content
    assert f'href="{reverse("support:ticket_create")}"' in content
    assert 'name="theme"' not in content


def test_a_user_with_a_chat_going_on_is_sent_back_to_it_rather_than_opening_another(client, waiting, theme):
    client.force_login(waiting.user)
    page = client.get(START)
    assert page.context["current"] == waiting
    assert url("chat", waiting) in page.content.decode()
    client.post(START, {"theme": theme.pk})
    assert ChatSession.objects.count() == 1
    with pytest.raises(chat_services.ChatRefused):
        chat_services.chat_start(user=waiting.user, theme=theme)


# Messages


def test_user_writes_while_waiting_and_the_message_is_on_the_page(client, waiting, user):
    client.force_login(user)
    response = client.post(
        url("chat_post", waiting), {"body": "  Mon compte est bloqué.\nMerci  "}, follow=True
    )
    message = ChatMessage.objects.get()
    assert (message.author, message.body) == (user, "Mon compte est bloqué.\nMerci")
    assert "Votre message a été envoyé." in messages_of(response)
    assert "Mon compte est bloqué." in response.content.decode()


def test_a_script_message_is_shown_as_text_in_the_page_and_inert_in_the_json(client, ongoing, user, agent):
    client.force_login(user)
    client.post(url("chat_post", ongoing), {"body": SCRIPT})
    for persona in (user, agent):
        client.force_login(persona)
        page = client.get(url("chat", ongoing)).content.decode()
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        response = client.get(url("chat_messages", ongoing))
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert b"<script>" not in response.content
        assert json.loads(response.content)["messages"][0]["body"] == SCRIPT


def test_an_empty_message_is_refused_with_a_french_error(client, ongoing, user):
    client.force_login(user)
    response = client.post(url("chat_post", ongoing), {"body": "   "})
    assert response.status_code == 200
    assert "Écrivez un message avant de l’envoyer." in response.content.decode()
    json_response = client.post(url("chat_post", ongoing), {"body": ""}, HTTP_ACCEPT="application/json")
    assert json_response.status_code == 400
    assert json.loads(json_response.content)["error"] == "Écrivez un message avant de l’envoyer."
    assert not ChatMessage.objects.exists()


def test_a_message_over_4000_characters_is_refused_and_4000_is_accepted(client, ongoing, user):
    client.force_login(user)
    response = client.post(url("chat_post", ongoing), {"body": "a" * 4001})
    assert "Le message ne doit pas dépasser 4000 caractères (il en compte 4001)." in response.content.decode()
    assert not ChatMessage.objects.exists()
    client.post(url("chat_post", ongoing), {"body": "a" * 4000})
    assert len(ChatMessage.objects.get().body) == 4000


def test_a_ten_thousand_character_message_is_refused_without_error(client, ongoing, user):
    client.force_login(user)
    response = client.post(url("chat_post", ongoing), {"body": "é" * 10_000}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert not ChatMessage.objects.exists()


def test_posting_from_the_script_answers_json(client, ongoing, agent):
    client.force_login(agent)
    response = client.post(
        url("chat_post", ongoing), {"body": "Bonjour, je regarde."}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201
    data = json.loads(response.content)["message"]
    assert data["body"] == "Bonjour, je regarde."
    assert data["is_agent"] is True
    assert data["author"] == "Julien, agent du support"


def test_an_agent_answers_only_the_chats_they_took(client, waiting, agent, other_agent):
    client.force_login(agent)
    response = client.post(url("chat_post", waiting), {"body": "Bonjour"}, follow=True)
    assert "Prenez en charge cet échange avant d’y répondre." in messages_of(response)
    chat_services.chat_take(session_id=waiting.pk, agent=agent)
    client.force_login(other_agent)
    response = client.post(url("chat_post", waiting), {"body": "Bonjour"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert json.loads(response.content)["error"] == "Cet échange est pris en charge par un autre agent."
    page = client.get(url("chat", waiting))
    assert page.context["form"] is None
    assert not ChatMessage.objects.exists()


def test_nobody_writes_in_an_ended_chat(client, ongoing, user):
    chat_services.chat_end(session_id=ongoing.pk, actor=user)
    client.force_login(user)
    response = client.post(url("chat_post", ongoing), {"body": "Encore une question"}, follow=True)
    assert "Cet échange est terminé : vous ne pouvez plus y écrire." in messages_of(response)
    assert not ChatMessage.objects.exists()


# Polling


def test_polling_returns_only_the_messages_after_the_last_one_seen(client, ongoing, user, agent):
    first = ChatMessage.objects.create(session=ongoing, author=user, body="Première question")
    second = ChatMessage.objects.create(session=ongoing, author=agent, body="Première réponse")
    third = ChatMessage.objects.create(session=ongoing, author=user, body="Merci")
    client.force_login(user)
    data = json.loads(client.get(url("chat_messages", ongoing), {"after": first.pk}).content)
    assert [m["id"] for m in data["messages"]] == [second.pk, third.pk]
    assert data["messages"][0]["is_agent"] is True
    assert data["messages"][1]["is_agent"] is False
    assert set(data["messages"][0]) >= {"id", "author", "is_agent", "body", "created_at"}
    assert data["status"] == "EN_COURS"
    assert (
        json.loads(client.get(url("chat_messages", ongoing), {"after": third.pk}).content)["messages"] == []
    )


@pytest.mark.parametrize("after", ["abc", "-5", "", "1e9999"])
def test_polling_with_a_malformed_after_returns_everything(client, ongoing, user, after):
    ChatMessage.objects.create(session=ongoing, author=user, body="Bonjour")
    client.force_login(user)
    response = client.get(url("chat_messages", ongoing), {"after": after})
    assert response.status_code == 200
    assert len(json.loads(response.content)["messages"]) == 1


def test_polling_says_when_the_chat_has_ended(client, ongoing, agent, user):
    chat_services.chat_end(session_id=ongoing.pk, actor=agent)
    client.force_login(user)
    data = json.loads(client.get(url("chat_messages", ongoing)).content)
    assert data["status"] == "TERMINE"
    assert data["status_label"] == "Terminé"


def test_the_chat_page_gives_the_script_what_it_polls(client, ongoing, user):
    message = ChatMessage.objects.create(session=ongoing, author=user, body="Bonjour")
    client.force_login(user)
    page = client.get(url("chat", ongoing)).content.decode()
    assert f'data-poll-url="{url("chat_messages", ongoing)}"' in page
    assert f'data-after="{message.pk}"' in page
    assert 'data-interval="3000"' in page
    assert "js/chat.js" in page


# Agents


def test_agents_see_waiting_chats_by_theme_oldest_first(client, agent, theme, queues):
    first_theme = Category.objects.create(name="Un thème d’abord", order=0)
    users = [factories.UserFactory() for _ in range(3)]
    older = ChatSession.objects.create(user=users[0], theme=theme)
    newer = ChatSession.objects.create(user=users[1], theme=theme)
    first = ChatSession.objects.create(user=users[2], theme=first_theme)
    taken = ChatSession.objects.create(user=factories.UserFactory(), theme=theme)
    chat_services.chat_take(session_id=taken.pk, agent=agent)
    withdrawn = ChatSession.objects.create(user=factories.UserFactory(), theme=theme)
    chat_services.chat_end(session_id=withdrawn.pk, actor=withdrawn.user)
    client.force_login(agent)
    response = client.get(AGENT_CHATS)
    assert response.status_code == 200
    assert [s.pk for s in response.context["waiting"]] == [first.pk, older.pk, newer.pk]
    assert [s.pk for s in response.context["mine"]] == [taken.pk]
    waiting_section = response.content.decode().split("Échanges en attente d’un agent", 1)[1]
    assert waiting_section.index("Un thème d’abord") < waiting_section.index(theme.name)


def test_agents_chat_list_costs_the_same_whatever_the_number_of_chats(
    client, agent, theme, django_assert_max_num_queries
):
    def add_chats(count):
        for _ in range(count):
            session = ChatSession.objects.create(user=factories.UserFactory(), theme=theme)
            ChatMessage.objects.create(session=session, author=session.user, body="Bonjour")
            mine = ChatSession.objects.create(user=factories.UserFactory(), theme=theme)
            chat_services.chat_take(session_id=mine.pk, agent=agent)

    client.force_login(agent)
    add_chats(2)
    client.get(AGENT_CHATS)  # warm the caches (catalogue, session)
    with django_assert_max_num_queries(100) as small:
        client.get(AGENT_CHATS)
    add_chats(10)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        client.get(AGENT_CHATS)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_an_agent_takes_a_waiting_chat_and_a_second_agent_is_told_it_is_taken(
    client, waiting, agent, other_agent
):
    client.force_login(agent)
    response = client.post(url("agent_chat_take", waiting), follow=True)
    assert response.redirect_chain[-1][0] == url("chat", waiting)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.agent) == (Status.EN_COURS, agent)
    assert waiting.taken_at is not None
    client.force_login(other_agent)
    response = client.post(url("agent_chat_take", waiting), follow=True)
    assert "Cet échange est déjà pris en charge." in messages_of(response)
    assert response.redirect_chain[-1][0] == AGENT_CHATS
    waiting.refresh_from_db()
    assert waiting.agent == agent
    assert AuditEvent.objects.filter(action="chat_take", object_id=str(waiting.pk)).count() == 1


def test_taking_a_chat_its_user_left_is_refused(waiting, user, agent):
    chat_services.chat_end(session_id=waiting.pk, actor=user)
    with pytest.raises(chat_services.ChatRefused) as refused:
        chat_services.chat_take(session_id=waiting.pk, agent=agent)
    assert str(refused.value.message) == "Cet échange est terminé."
    waiting.refresh_from_db()
    assert waiting.agent is None


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_the_same_chat_at_once_only_one_gets_it(catalogue):
    theme = Category.objects.create(name="Thème concurrent")
    session = ChatSession.objects.create(user=factories.UserFactory(), theme=theme)
    agents = [factories.UserFactory(is_staff=True) for _ in range(2)]
    barrier = threading.Barrier(2)
    results = []

    def take(agent):
        from django.db import connections

        barrier.wait()
        try:
            chat_services.chat_take(session_id=session.pk, agent=agent)
            results.append("taken")
        except chat_services.ChatRefused:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["refused", "taken"]
    session.refresh_from_db()
    assert session.agent in agents


# Ending


@pytest.mark.parametrize("side", ["user", "agent"])
def test_either_side_ends_the_chat(client, ongoing, side, request):
    client.force_login(request.getfixturevalue(side))
    response = client.post(url("chat_end", ongoing), follow=True)
    assert "L’échange est terminé." in messages_of(response)
    ongoing.refresh_from_db()
    assert ongoing.status == Status.TERMINE
    assert ongoing.ended_at is not None
    again = client.post(url("chat_end", ongoing), follow=True)
    assert "Cet échange est déjà terminé." in messages_of(again)


def test_another_agent_cannot_end_a_chat_they_did_not_take(client, ongoing, other_agent):
    client.force_login(other_agent)
    response = client.post(url("chat_end", ongoing), follow=True)
    assert "Seuls l’utilisateur et l’agent de cet échange peuvent y mettre fin." in messages_of(response)
    ongoing.refresh_from_db()
    assert ongoing.ended_at is None


def test_a_user_leaves_a_chat_nobody_took_and_it_leaves_the_agents_list(client, waiting, user, agent):
    client.force_login(user)
    client.post(url("chat_end", waiting))
    waiting.refresh_from_db()
    assert waiting.ended_at is not None
    assert chat_services.status_code(waiting) == "TERMINE"
    client.force_login(agent)
    assert client.get(AGENT_CHATS).context["waiting"] == []


# Chat → ticket


def test_user_turns_the_chat_into_a_submitted_ticket_with_its_transcript(
    client, ongoing, user, agent, queues
):
    user.contact_email = "lea.contact@exemple.fr"
    user.save(update_fields=["contact_email"])
    ChatMessage.objects.create(session=ongoing, author=user, body="Je ne peux pas me connecter.")
    ChatMessage.objects.create(session=ongoing, author=agent, body="Je transmets au support.")
    client.force_login(user)
    response = client.post(url("chat_to_ticket", ongoing), follow=True)
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.SOUMIS
    assert ticket.number.startswith("T-")
    assert ticket.requester == user
    assert ticket.category == ongoing.theme
    assert ticket.subcategory.name == "Question générale"  # the first active one
    assert ticket.object_type == "Compte"
    assert ticket.queue == queues["portail"]
    assert ticket.contact_email == "lea.contact@exemple.fr"
    date = ongoing.created_at.astimezone(PARIS).strftime("%d/%m/%Y")
    assert ticket.title == f"Échange avec un agent du {date}"
    assert "Je ne peux pas me connecter." in ticket.description
    assert "Julien, agent du support :" in ticket.description
    assert TicketEvent.objects.filter(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, to_status="SOUMIS"
    ).exists()
    ongoing.refresh_from_db()
    assert ongoing.ticket == ticket
    assert ongoing.status == Status.TERMINE
    assert any(ticket.number in message for message in messages_of(response))
    again = client.post(url("chat_to_ticket", ongoing), follow=True)
    assert any("a déjà été transformé en ticket" in message for message in messages_of(again))
    assert Ticket.objects.count() == 1


def test_a_business_subcategory_sends_the_ticket_to_business_support(client, user, queues):
    theme = Category.objects.create(name="Thème métier des essais")
    SubCategory.objects.create(category=theme, name="Mise en paiement des essais")
    session = ChatSession.objects.create(user=user, theme=theme)
    ChatMessage.objects.create(session=session, author=user, body="Ma facture n’est pas payée.")
    client.force_login(user)
    client.post(url("chat_to_ticket", session))
    assert Ticket.objects.get().queue == queues["metier"]
    session.refresh_from_db()
    assert session.ended_at is not None


def test_an_empty_chat_does_not_become_a_ticket(client, waiting, user):
    client.force_login(user)
    response = client.post(url("chat_to_ticket", waiting), follow=True)
    assert "Cet échange ne contient aucun message : il n’y a rien à transmettre." in messages_of(response)
    assert not Ticket.objects.exists()
    waiting.refresh_from_db()
    assert waiting.ended_at is None


def test_a_theme_without_active_subcategory_cannot_make_a_ticket(client, user, queues):
    theme = Category.objects.create(name="Thème sans sous-catégorie")
    session = ChatSession.objects.create(user=user, theme=theme)
    ChatMessage.objects.create(session=session, author=user, body="Bonjour")
    client.force_login(user)
    response = client.post(url("chat_to_ticket", session), follow=True)
    assert any("n’a pas de sous-catégorie active" in message for message in messages_of(response))
    assert not Ticket.objects.exists()
    session.refresh_from_db()
    assert session.ended_at is None


# Transcript


def test_user_downloads_the_transcript_as_utf8_text(client, ongoing, user, agent):
    ChatMessage.objects.create(session=ongoing, author=user, body=f"Élément {SCRIPT}\ndeuxième ligne")
    ChatMessage.objects.create(session=ongoing, author=agent, body="Réponse de l’agent")
    client.force_login(user)
    response = client.get(url("chat_transcript", ongoing))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="echange-{ongoing.pk}.txt"'
    text = response.content.decode("utf-8")
    assert text.startswith("Échange avec un agent — Thème des essais de chat\n")
    assert "Léa Dupré :" in text
    assert f"Élément {SCRIPT}\ndeuxième ligne" in text
    assert "Julien, agent du support :\nRéponse de l’agent" in text
    assert text.index("Élément") < text.index("Réponse de l’agent")
