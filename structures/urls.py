"""Organisation › Structure: every route of the app."""

from django.urls import path

from structures.views import attachments, bank, insee, manage, transfer, units

app_name = "structures"

urlpatterns = [
    path("", manage.manage, name="manage"),
    path("<int:pk>/", manage.detail, name="detail"),
    path("<int:pk>/modifier/", manage.update, name="update"),
    path("<int:pk>/activer/", manage.activate, name="activate"),
    path("<int:pk>/desactiver/", manage.deactivate, name="deactivate"),
    path("<int:pk>/historique/", manage.history, name="history"),
    path("services/", units.service_list, name="service_list"),
    path("services/nouveau/", units.service_create, name="service_create"),
    path("services/<int:pk>/modifier/", units.service_update, name="service_update"),
    path("services/<int:pk>/desactiver/", units.service_deactivate, name="service_deactivate"),
    path("services/<int:pk>/activer/", units.service_activate, name="service_activate"),
    path("services/<int:pk>/supprimer/", units.service_delete, name="service_delete"),
    path("coordonnees-bancaires/", bank.bank_list, name="bank_list"),
    path("coordonnees-bancaires/nouvelle/", bank.bank_create, name="bank_create"),
    path(
        "coordonnees-bancaires/nouvelle/justificatif-conserve/<str:token>/",
        bank.bank_kept_proof,
        name="bank_kept_proof",
    ),
    path("coordonnees-bancaires/<int:pk>/", bank.bank_detail, name="bank_detail"),
    path("coordonnees-bancaires/<int:pk>/statut/", bank.bank_change_status, name="bank_change_status"),
    path("coordonnees-bancaires/<int:pk>/justificatif/", bank.bank_proof, name="bank_proof"),
    path("pieces-jointes/", attachments.attachment_list, name="attachment_list"),
    path("pieces-jointes/nouvelle/", attachments.attachment_create, name="attachment_create"),
    path("pieces-jointes/<int:pk>/telecharger/", attachments.attachment_download, name="attachment_download"),
    path("pieces-jointes/<int:pk>/supprimer/", attachments.attachment_delete, name="attachment_delete"),
    path("nouvelle/", insee.create, name="create"),
    path("<int:pk>/mise-a-jour-insee/", insee.insee_update, name="insee_update"),
    path("dupliquer/", insee.duplicate, name="duplicate"),
    path("transfert-gestionnaire-principal/", transfer.transfer, name="transfer"),
    path("transfert-gestionnaire-principal/effectue/", transfer.transfer_done, name="transfer_done"),
]
