"""URL patterns of this feature are added by the views below."""

urlpatterns = []
