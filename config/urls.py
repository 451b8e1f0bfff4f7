from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from chorus import access
from config import views
from core import health, metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("public/<str:audience>/", views.choose_audience, name="audience"),
    path("domaines/<slug:code>/", views.domain_detail, name="domain"),
    path("applications/<str:code>/", views.application_detail, name="application"),
    path("recherche/", views.search, name="search"),
    path("langue/", access.public(set_language), name="set_language"),
    path("session/", views.session_state, name="session"),
    path("", include("users.urls")),
    path("organisation/structure/", include("structures.urls")),
    path("approbations/", include("approvals.urls")),
    path("support/", include("support.urls")),
    path("admin/", admin.site.urls),
    # Probes and metrics answer anonymous callers: the metrics view checks the network.
    path("healthz", access.public(health.healthz), name="healthz"),
    path("readyz", access.public(health.readyz), name="readyz"),
    path("metrics", access.public(metrics.metrics_view), name="metrics"),
]

if apps.is_installed("devtools"):  # reference pages of the load benchmark, never in production
    urlpatterns.append(path("banc-d-essai/", include("devtools.urls")))

handler400 = "config.views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
