from django.urls import path

from devtools import views

app_name = "bench"

urlpatterns = [
    path("constante/", views.constant, name="constant"),
    path("page-vide/", views.shell, name="shell"),
]
