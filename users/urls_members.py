"""Organisation › Utilisateurs. Each feature module declares its own URL patterns."""

from users import views_directory, views_habilitations, views_members

app_name = "members"

urlpatterns = [
    *views_members.urlpatterns,
    *views_directory.urlpatterns,
    *views_habilitations.urlpatterns,
]
