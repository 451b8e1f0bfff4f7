"""Organisation › Structure. Each feature module declares its own URL patterns."""

from structures.views import attachments, bank, insee, manage, services, transfer

app_name = "structures"

urlpatterns = [
    *manage.urlpatterns,
    *services.urlpatterns,
    *bank.urlpatterns,
    *attachments.urlpatterns,
    *insee.urlpatterns,
    *transfer.urlpatterns,
]
