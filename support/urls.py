"""Support › Nous contacter, tickets, back-office, documentation, assistant and chat."""

from support.views import agents, assistant, chat, docs, tickets

app_name = "support"

urlpatterns = [
    *tickets.urlpatterns,
    *agents.urlpatterns,
    *docs.urlpatterns,
    *assistant.urlpatterns,
    *chat.urlpatterns,
]
