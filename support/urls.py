"""Support › Nous contacter, tickets, back-office, documentation, assistant and chat:
every route of the app."""

from django.urls import path

from support.views import agents, assistant, chat, docs, tickets

app_name = "support"

urlpatterns = [
    # Tickets
    path("", tickets.contact, name="contact"),
    path("tickets/", tickets.ticket_list, name="tickets"),
    path("tickets/export/", tickets.ticket_export, name="tickets_export"),
    path("tickets/nouveau/", tickets.ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/modifier/", tickets.ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/supprimer/", tickets.ticket_delete, name="ticket_delete"),
    path("tickets/<int:pk>/complement/", tickets.ticket_answer, name="ticket_answer"),
    path("tickets/<int:pk>/accepter/", tickets.ticket_accept, name="ticket_accept"),
    path("tickets/<int:pk>/refuser/", tickets.ticket_refuse, name="ticket_refuse"),
    path("tickets/<int:pk>/cloturer/", tickets.ticket_close, name="ticket_close"),
    path("tickets/<int:pk>/evaluer/", tickets.ticket_rate, name="ticket_rate"),
    path(
        "tickets/<int:pk>/pieces-jointes/<int:attachment_pk>/",
        tickets.ticket_attachment,
        name="ticket_attachment",
    ),
    path("contact/", tickets.public_ticket, name="public_ticket"),
    path("contact/confirmation/", tickets.public_ticket_done, name="public_ticket_done"),
    # Agents
    path("agents/", agents.agent_queues, name="agent_queues"),
    path("agents/evaluations/", agents.agent_ratings, name="agent_ratings"),
    path("agents/tickets/<int:pk>/", agents.agent_ticket, name="agent_ticket"),
    path("agents/tickets/<int:pk>/affecter/", agents.agent_assign, name="agent_assign"),
    path("agents/tickets/<int:pk>/repondre/", agents.agent_reply, name="agent_reply"),
    path(
        "agents/tickets/<int:pk>/demander-complement/",
        agents.agent_request_information,
        name="agent_request_information",
    ),
    path(
        "agents/tickets/<int:pk>/proposer-solution/",
        agents.agent_propose_solution,
        name="agent_propose_solution",
    ),
    path("agents/tickets/<int:pk>/transferer/", agents.agent_transfer, name="agent_transfer"),
    path("agents/tickets/<int:pk>/note-interne/", agents.agent_note, name="agent_note"),
    path(
        "agents/tickets/<int:pk>/pieces-jointes/<int:attachment_pk>/",
        agents.agent_attachment,
        name="agent_attachment",
    ),
    # Docs
    path("documentation/", docs.docs, name="docs"),
    path("documentation/<slug:slug>/", docs.doc_page, name="doc_page"),
    # Assistant
    path("assistant/", assistant.assistant_ask, name="assistant_ask"),
    # Chat
    path("echange/", chat.chat_start, name="chat_start"),
    path("echange/<int:pk>/", chat.chat_detail, name="chat"),
    path("echange/<int:pk>/messages/", chat.chat_messages, name="chat_messages"),
    path("echange/<int:pk>/envoyer/", chat.chat_post, name="chat_post"),
    path("echange/<int:pk>/terminer/", chat.chat_end, name="chat_end"),
    path("echange/<int:pk>/ticket/", chat.chat_to_ticket, name="chat_to_ticket"),
    path("echange/<int:pk>/transcription/", chat.chat_transcript, name="chat_transcript"),
    path("agents/echanges/", chat.agent_chats, name="agent_chats"),
    path("agents/echanges/<int:pk>/prendre/", chat.agent_chat_take, name="agent_chat_take"),
]
