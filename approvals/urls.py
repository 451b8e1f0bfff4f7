"""Approvals: every route of the app."""

from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/approuver/", views.approve, name="approve"),
    path("<int:pk>/refuser/", views.refuse, name="refuse"),
    path("demander-un-rattachement/", views.request_attachment, name="request_attachment"),
    path("demander-un-rattachement/revendiquer/", views.claim_structure, name="claim_structure"),
    path("mes-demandes/", views.my_requests, name="my_requests"),
]
