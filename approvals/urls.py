"""URL patterns of the approvals are added by approvals/views.py."""

from approvals import views

app_name = "approvals"

urlpatterns = views.urlpatterns
