from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from chorus import access, health, metrics, views

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
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

if settings.BENCHMARK_VIEWS:  # reference pages of the load benchmark, never in production
    urlpatterns.append(path("banc-d-essai/", include(("chorus.bench_views", "bench"))))

handler400 = "chorus.views.bad_request"
handler403 = "chorus.error_views.permission_denied"
handler404 = "chorus.error_views.page_not_found"
handler500 = "chorus.error_views.server_error"
